// A client of the daemon's socket (proto-spec/ipc.md): calls methods, re-raises the daemon's
// DmessErrors as the same DmessError, and delivers event notifications to a listener.
import net from 'node:net'
import { errors } from '../errors.js'
import type { DaemonEvent, EventType } from '../runtime/events.js'
import { encodeLine, errorFromObject, LineSplitter, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, type RpcErrorObject } from './protocol.js'
import type { Call, MethodName, Params, Result } from './rpc-methods.js'

export const CONNECT_TIMEOUT_MS = 3000
export const CALL_TIMEOUT_MS = 30_000

export type SocketState = 'live' | 'stale' | 'absent'

/**
 * Whether a daemon listens on `path`: 'live' (a connect succeeds), 'stale' (the file is left
 * from a killed daemon: ECONNREFUSED) or 'absent'. Other failures (EACCES, …) are thrown.
 */
export async function probeSocket (path: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<SocketState> {
  try {
    const s = await connectSocket(path, timeoutMs)
    s.destroy()
    return 'live'
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return 'absent'
    if (code === 'ECONNREFUSED' || code === 'ENOTSOCK') return 'stale'
    throw err
  }
}

async function connectSocket (path: string, timeoutMs: number): Promise<net.Socket> {
  return await new Promise<net.Socket>((resolve, reject) => {
    const s = net.createConnection(path)
    const timer = setTimeout(() => { s.destroy(); reject(errors.IPC(`no answer from the daemon socket ${path} within ${timeoutMs} ms`)) }, timeoutMs)
    s.once('connect', () => { clearTimeout(timer); s.off('error', reject); resolve(s) })
    s.once('error', err => { clearTimeout(timer); reject(err) })
  })
}

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
  method: string
}

export class IpcClient {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly eventListeners = new Set<(ev: DaemonEvent) => void>()
  private closedError: Error | undefined
  private readonly closeListeners = new Set<(err: Error) => void>()

  private constructor (private readonly socket: net.Socket, readonly path: string) {
    const splitter = new LineSplitter(MAX_RESPONSE_BYTES, line => this.onLine(line),
      () => this.fail(errors.IPC(`the daemon sent a line longer than ${MAX_RESPONSE_BYTES} bytes`)))
    socket.on('data', chunk => splitter.push(chunk))
    socket.on('error', err => this.fail(errors.IPC(`daemon connection failed: ${err.message}`)))
    socket.on('close', () => this.fail(errors.IPC('the daemon closed the connection')))
  }

  /** Connects to a daemon's socket. ENOENT/ECONNREFUSED mean no daemon: DAEMON_NOT_RUNNING. */
  static async connect (path: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<IpcClient> {
    try {
      return new IpcClient(await connectSocket(path, timeoutMs), path)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK') throw errors.DAEMON_NOT_RUNNING(`no dmess daemon is listening on ${path}`)
      throw err
    }
  }

  get closed (): boolean { return this.closedError !== undefined }

  async call<M extends MethodName> (method: M, params: Params<M>, timeoutMs = CALL_TIMEOUT_MS): Promise<Result<M>> {
    return await this.request(method, params as Record<string, unknown>, timeoutMs) as Result<M>
  }

  /** `call` bound to this client, in the shape commands use. */
  get caller (): Call {
    return async (method, params) => await this.call(method, params)
  }

  /** Sends any method name and params: for tests and for methods newer than this client. */
  async request (method: string, params: Record<string, unknown> = {}, timeoutMs = CALL_TIMEOUT_MS): Promise<unknown> {
    if (this.closedError) throw this.closedError
    const id = this.nextId++
    const line = encodeLine({ jsonrpc: '2.0', id, method, params })
    if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) throw errors.IPC(`the "${method}" request is larger than the daemon accepts (${MAX_REQUEST_BYTES} bytes)`)
    return await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(errors.IPC(`the daemon did not answer "${method}" within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve, reject, timer, method })
      this.socket.write(line)
    })
  }

  /** Asks for events of these types; `listener` gets every event notification on this connection. */
  async subscribe (events: EventType[], listener: (ev: DaemonEvent) => void): Promise<EventType[]> {
    this.eventListeners.add(listener)
    return (await this.call('subscribe', { events })).events
  }

  /** Called once when the connection ends (the daemon stopped or the socket failed). */
  onClose (listener: (err: Error) => void): void {
    this.closeListeners.add(listener)
  }

  close (): void {
    this.socket.end()
    this.socket.destroy()
  }

  private onLine (line: string): void {
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(line) as Record<string, unknown>
    } catch {
      return // a daemon never sends this; nothing sensible to do but skip it
    }
    if (msg.method === 'event' && typeof msg.params === 'object' && msg.params !== null) {
      for (const l of this.eventListeners) l(msg.params as DaemonEvent)
      return
    }
    this.settle(msg)
  }

  private settle (msg: Record<string, unknown>): void {
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined
    if (!p) {
      // an error with id null answers a line the daemon could not read (e.g. too long): fail all
      if (msg.id === null && msg.error) this.fail(errorFromObject(msg.error as RpcErrorObject))
      return
    }
    this.pending.delete(msg.id as number)
    clearTimeout(p.timer)
    if (msg.error) p.reject(errorFromObject(msg.error as RpcErrorObject))
    else p.resolve(msg.result)
  }

  private fail (err: Error): void {
    if (this.closedError) return
    this.closedError = err
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(err) }
    this.pending.clear()
    for (const l of this.closeListeners) l(err)
    this.socket.destroy()
  }
}
