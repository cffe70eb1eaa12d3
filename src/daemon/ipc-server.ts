// The daemon's IPC server (proto-spec/ipc.md): a Unix socket, mode 0600 from the moment it
// exists, newline-delimited JSON-RPC 2.0. A bad request gets an error answer and the connection
// stays usable; nothing a client sends can throw out of here or stop the daemon.
import net from 'node:net'
import { chmod, unlink } from 'node:fs/promises'
import type { Logger } from 'pino'
import { errors } from '../errors.js'
import type { Component } from '../runtime/component.js'
import type { DaemonEvent, EventBus, EventType } from '../runtime/events.js'
import { probeSocket } from './ipc-client.js'
import {
  encodeLine, errorObject, LineSplitter, parseRequest, RPC, MAX_CONNECTIONS, MAX_PENDING_PER_CONNECTION,
  MAX_QUEUED_OUTPUT_BYTES, MAX_REQUEST_BYTES, MAX_SOCKET_PATH_BYTES, type RequestId, type RpcErrorObject, type RpcRequest
} from './protocol.js'
import { dispatch, type MethodContext, type Session } from './rpc-methods.js'

export interface IpcLimits {
  maxRequestBytes: number
  maxConnections: number
  maxPending: number
  maxQueuedOutputBytes: number
}

export interface IpcServerOptions {
  path: string
  /** The context methods run in; `session` is this connection's subscription state. */
  context: (session: Session) => MethodContext
  events: EventBus
  log: Logger
  limits?: Partial<IpcLimits>
}

/** How long stop() lets in-flight requests finish before closing connections. */
const DRAIN_MS = 2000

export class IpcServer implements Component {
  readonly name = 'ipc'
  readonly counters = { connections: 0, refused: 0, badRequests: 0, oversized: 0, internalErrors: 0, slowClientsDropped: 0 }
  private readonly limits: IpcLimits
  private server: net.Server | undefined
  private readonly conns = new Set<Connection>()
  private closing = false

  constructor (private readonly opts: IpcServerOptions) {
    this.limits = {
      maxRequestBytes: MAX_REQUEST_BYTES,
      maxConnections: MAX_CONNECTIONS,
      maxPending: MAX_PENDING_PER_CONNECTION,
      maxQueuedOutputBytes: MAX_QUEUED_OUTPUT_BYTES,
      ...opts.limits
    }
  }

  get path (): string { return this.opts.path }
  get connectionCount (): number { return this.conns.size }
  get isClosing (): boolean { return this.closing }
  /** connections that receive events of this type now (the chat subscribes to messages) */
  subscribers (type: EventType): number { return [...this.conns].filter(c => c.isSubscribed(type)).length }

  async start (): Promise<void> {
    const path = this.opts.path
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
      throw errors.IPC(`socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes (a Unix socket limit): use a shorter --home`)
    }
    const state = await probeSocket(path)
    if (state === 'live') throw errors.DAEMON_RUNNING(`another process is serving ${path}`)
    if (state === 'stale') await unlink(path).catch(() => {}) // left by a daemon that was killed
    const server = net.createServer(socket => this.accept(socket))
    await listenPrivate(server, path)
    this.server = server
    this.opts.log.debug({ path }, 'ipc listening')
  }

  async stop (): Promise<void> {
    this.closing = true
    const server = this.server
    if (!server) return
    const closed = new Promise<void>(resolve => server.close(() => resolve()))
    await Promise.all([...this.conns].map(async c => await c.shutdown(DRAIN_MS)))
    await closed
    await unlink(this.opts.path).catch(() => {}) // libuv unlinks it on close; this covers the rest
    this.opts.log.debug('ipc closed')
  }

  private accept (socket: net.Socket): void {
    if (this.closing || this.conns.size >= this.limits.maxConnections) {
      this.counters.refused++
      const code = this.closing ? RPC.SHUTTING_DOWN : RPC.TOO_MANY_CONNECTIONS
      const message = this.closing ? 'the daemon is shutting down' : `too many IPC connections (limit ${this.limits.maxConnections})`
      socket.on('error', () => {})
      socket.end(encodeLine({ jsonrpc: '2.0', id: null, error: { code, message } }))
      return
    }
    this.counters.connections++
    const conn = new Connection(socket, this, this.opts, this.limits)
    this.conns.add(conn)
    socket.on('close', () => { this.conns.delete(conn); conn.dispose() })
  }
}

/** Creates the socket with umask 0177 so it is 0600 before any other process can connect. */
async function listenPrivate (server: net.Server, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // the bind happens synchronously inside listen(): restoring the umask right after is safe
    const old = process.umask(0o177)
    try {
      server.listen(path, () => { server.off('error', reject); resolve() })
    } finally {
      process.umask(old)
    }
  })
  await chmod(path, 0o600) // belt and braces: the home is 0700 as well
}

type Outcome = { ok: true, result: unknown } | { ok: false, err: unknown }

/**
 * Sends that need not wait for the request before them: `messages.sendMany`, and `messages.send`
 * without `wait` (one with `wait` answers only once the message got that far: the client may
 * mean the next request to follow it). Started in request order, answered in request order.
 */
function joinsRun (req: RpcRequest): boolean {
  return req.method === 'messages.sendMany' || (req.method === 'messages.send' && req.params?.wait === undefined)
}

class Connection {
  private readonly splitter: LineSplitter
  private readonly subscribed = new Set<EventType>()
  private unlisten: (() => void) | undefined
  /** settles once every request so far is answered */
  private queue: Promise<void> = Promise.resolve()
  /** settles once the last request has started (for a run of sends, below) */
  private started: Promise<void> = Promise.resolve()
  /** whether the last request was a send that may start beside the one before it */
  private lastJoins = false
  private pending = 0
  private readonly ctx: MethodContext

  constructor (
    private readonly socket: net.Socket,
    private readonly server: IpcServer,
    private readonly opts: IpcServerOptions,
    private readonly limits: IpcLimits
  ) {
    this.ctx = opts.context(this.session())
    this.splitter = new LineSplitter(limits.maxRequestBytes, line => this.onLine(line), () => this.onOversize())
    socket.on('data', chunk => this.splitter.push(chunk))
    socket.on('error', err => opts.log.debug({ err: err.message }, 'ipc connection error'))
  }

  private session (): Session {
    return {
      subscribe: types => {
        for (const t of types) this.subscribed.add(t)
        this.unlisten ??= this.opts.events.on(ev => this.onEvent(ev))
        return [...this.subscribed]
      },
      unsubscribe: types => {
        if (types === undefined) this.subscribed.clear()
        else for (const t of types) this.subscribed.delete(t)
        return [...this.subscribed]
      }
    }
  }

  isSubscribed (type: EventType): boolean {
    return this.subscribed.has(type)
  }

  private onEvent (ev: DaemonEvent): void {
    if (!this.subscribed.has(ev.type)) return
    this.write(encodeLine({ jsonrpc: '2.0', method: 'event', params: { ...ev } }))
  }

  private onOversize (): void {
    this.server.counters.oversized++
    this.reply(null, { code: RPC.REQUEST_TOO_LARGE, message: `request line longer than ${this.limits.maxRequestBytes} bytes` })
  }

  private onLine (line: string): void {
    const parsed = parseRequest(line)
    if (!parsed.ok) {
      this.server.counters.badRequests++
      this.reply(parsed.id, parsed.error)
      return
    }
    const req = parsed.request
    if (this.server.isClosing) { this.replyTo(req, { code: RPC.SHUTTING_DOWN, message: 'the daemon is shutting down' }); return }
    if (this.pending >= this.limits.maxPending) {
      this.replyTo(req, { code: RPC.TOO_MANY_PENDING, message: `more than ${this.limits.maxPending} requests awaiting an answer` })
      return
    }
    // one request at a time per connection, answers in request order (ipc.md §Protocol); but a
    // run of sends pipelined on it starts together, in order, so that they reach the messaging
    // service in one turn and are stored and sealed as one burst (src/messaging/send-coalescer.ts)
    this.pending++
    const joins = joinsRun(req)
    const startAfter = joins && this.lastJoins ? this.started : this.queue
    let outcome: Promise<Outcome> | undefined
    const started = startAfter.then(() => { outcome = this.execute(req) })
    const answered = this.queue.then(async () => { await started; this.answer(req, await (outcome as Promise<Outcome>)) })
    this.started = started
    this.lastJoins = joins
    this.queue = answered.finally(() => { this.pending-- })
  }

  /** Runs the method; never rejects (the error is the outcome). */
  private async execute (req: RpcRequest): Promise<Outcome> {
    try {
      return { ok: true, result: await dispatch(this.ctx, req.method, req.params) }
    } catch (err) {
      return { ok: false, err }
    }
  }

  private answer (req: RpcRequest, outcome: Outcome): void {
    if (outcome.ok) {
      if (req.id !== undefined) this.write(encodeLine({ jsonrpc: '2.0', id: req.id, result: outcome.result ?? null }))
    } else {
      const err = outcome.err
      const e = errorObject(err)
      if (e.code === RPC.INTERNAL_ERROR) {
        this.server.counters.internalErrors++
        // the method name only: params may hold names or message text
        this.opts.log.error({ method: req.method, err: (err as Error)?.message }, 'ipc method failed')
      }
      this.replyTo(req, e)
    }
  }

  private replyTo (req: RpcRequest, error: RpcErrorObject): void {
    if (req.id !== undefined) this.reply(req.id, error) // notifications get no answer (JSON-RPC §4.1)
  }

  private reply (id: RequestId, error: RpcErrorObject): void {
    this.write(encodeLine({ jsonrpc: '2.0', id, error }))
  }

  private write (line: string): void {
    if (this.socket.destroyed || !this.socket.writable) return
    // a client that stops reading must not grow the daemon's memory without bound
    if (this.socket.writableLength > this.limits.maxQueuedOutputBytes) {
      this.server.counters.slowClientsDropped++
      this.socket.destroy()
      return
    }
    this.socket.write(line)
  }

  /** Lets queued requests finish (bounded), then closes after the answers are flushed. */
  async shutdown (drainMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.queue, new Promise<void>(resolve => { timer = setTimeout(resolve, drainMs) })])
    clearTimeout(timer)
    if (this.socket.destroyed) return
    await new Promise<void>(resolve => {
      const t = setTimeout(() => { this.socket.destroy(); resolve() }, drainMs)
      this.socket.once('close', () => { clearTimeout(t); resolve() })
      this.socket.end()
    })
  }

  dispose (): void {
    this.unlisten?.()
    this.unlisten = undefined
  }
}
