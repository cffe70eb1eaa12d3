// The relay client (proto-spec/relay.md §2, §3): `allocate(relay)` on one side gives an offer to
// pass to the peer end to end; `join(offer)` on the other. Each side then binds its allocation
// port from the node's one socket — the socket its Noise session uses, so the NAT mapping toward
// the relay port is the one the session's datagrams take — and keeps it bound with refreshes.
// The session then runs to `path.address` (the relay port) as if it were the peer's address.
import { EventEmitter } from 'node:events'
import { randomBytes } from '../crypto/primitives.js'
import { formatHostPort, sameAddress, type PeerAddress } from '../io/address.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'
import { errors, type DmessError } from '../errors.js'
import { decodeRelayMessage, encodeRelayMessage, type RelayMessage } from './codec.js'
import { bindKeyOf, bindProof, releaseProof } from './keys.js'
import {
  RelayType, BoundState, RefuseReason, REQUEST_ID_BYTES, PAIR_SECRET_BYTES,
  RELAY_RETRY_MS, RELAY_REQUEST_TIMEOUT_MS, RELAY_REFRESH_MS
} from './constants.js'

/** What the allocating side passes to its peer, sealed end to end (the signalling channel). */
export interface RelayOffer {
  /** the relay's main address (where ALLOCATE went) */
  relay: PeerAddress
  allocationId: Uint8Array
  /** the relay port the joining side binds and sends to */
  port: number
  /** the random secret both users share; the relay only ever sees bindKeyOf(it) */
  pairSecret: Uint8Array
}

/** `dmess peers --json` shows a relayed session as `{ path: 'relayed', via }` (the relay's address). */
export interface RelayedPathInfo { path: 'relayed', via: string }

export interface RelayClientOptions {
  /** send on the node's one socket (Endpoint.sendDatagram) */
  send: (to: PeerAddress, bytes: Uint8Array) => void
  scheduler: Scheduler
  /** request ids (not key material: the pair secret comes from the OS) */
  random: (n: number) => Uint8Array
  timeoutMs?: number
}

export interface RelayPathEvents {
  /** the relay accepted our BIND */
  bound: []
  /** both sides are bound: the relay forwards */
  forwarding: []
  /** the relay stopped answering refreshes or the path was released */
  closed: []
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** One side's bound allocation port. Its `address` stands for the peer in endpoint.connect(). */
export class RelayPath extends EventEmitter<RelayPathEvents> {
  state: 'binding' | 'waiting' | 'forwarding' | 'closed' = 'binding'
  #cookie: Uint8Array | null = null
  #refresh: TimerHandle | null = null
  #lastAnswer: number

  constructor (readonly client: RelayClient, readonly relay: PeerAddress, readonly allocationId: Uint8Array, readonly port: number, readonly bindKey: Uint8Array) {
    super()
    this.#lastAnswer = client.now()
  }

  /** Where this side sends its session's datagrams: the relay's port for it. */
  get address (): PeerAddress {
    return { host: this.relay.host, port: this.port }
  }

  get info (): RelayedPathInfo {
    return { path: 'relayed', via: formatHostPort(this.relay) }
  }

  /** Resolves once the relay forwards (both sides bound); rejects if the path closes first. */
  async ready (): Promise<void> {
    if (this.state === 'forwarding') return
    if (this.state === 'closed') throw errors.RELAY_FAILED(`relay ${formatHostPort(this.relay)}: the path is closed`)
    await new Promise<void>((resolve, reject) => {
      const onF = (): void => { this.off('closed', onC); resolve() }
      const onC = (): void => { this.off('forwarding', onF); reject(errors.RELAY_FAILED(`relay ${formatHostPort(this.relay)}: the path closed before the peer bound`)) }
      this.once('forwarding', onF)
      this.once('closed', onC)
    })
  }

  /** Tell the relay to drop the allocation (both sides stop being forwarded) and stop refreshing. */
  release (): void {
    if (this.state === 'closed') return
    const proof = releaseProof(this.bindKey, this.allocationId, this.port)
    this.client.sendRaw(this.address, encodeRelayMessage({ type: RelayType.RELEASE, allocationId: this.allocationId, cookie: null, proof }))
    this.close()
  }

  /** Stop using the path locally (no message to the relay; it expires there). */
  close (): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    if (this.#refresh !== null) this.client.clearTimer(this.#refresh)
    this.#refresh = null
    this.client.forget(this)
    this.emit('closed')
  }

  /** BIND with the newest cookie (none at first: the relay answers with one). */
  sendBind (): void {
    const proof = bindProof(this.bindKey, this.allocationId, this.port, this.#cookie)
    this.client.sendRaw(this.address, encodeRelayMessage({ type: RelayType.BIND, allocationId: this.allocationId, cookie: this.#cookie, proof }))
  }

  onAnswer (m: RelayMessage): void {
    if (this.state === 'closed') return
    this.#lastAnswer = this.client.now()
    if (m.type === RelayType.BIND_CHALLENGE) {
      this.#cookie = m.cookie
      this.sendBind()
    } else if (m.type === RelayType.BOUND) {
      const was = this.state
      this.state = m.state === BoundState.FORWARDING ? 'forwarding' : 'waiting'
      if (was === 'binding') {
        this.#armRefresh()
        this.emit('bound')
      }
      if (this.state === 'forwarding' && was !== 'forwarding') this.emit('forwarding')
    }
  }

  /** Re-BIND every RELAY_REFRESH_MS: keeps our NAT's mapping toward the port and the allocation alive. */
  #armRefresh (): void {
    this.#refresh = this.client.setTimer(RELAY_REFRESH_MS, () => {
      this.#refresh = null
      if (this.state === 'closed') return
      if (this.client.now() - this.#lastAnswer > 3 * RELAY_REFRESH_MS) { this.close(); return } // the relay is gone
      this.sendBind()
      this.#armRefresh()
    })
  }
}

interface Waiter { from: PeerAddress, onMessage: (m: RelayMessage) => void }

export class RelayClient {
  readonly #opts: RelayClientOptions
  /** requests in flight, by request id (ALLOCATE) */
  readonly #waiters = new Map<string, Waiter>()
  /** bound or binding paths, by allocation id and port */
  readonly #paths = new Map<string, RelayPath>()
  #closed = false

  constructor (opts: RelayClientOptions) {
    this.#opts = opts
  }

  now (): number { return this.#opts.scheduler.now() }
  setTimer (ms: number, fn: () => void): TimerHandle { return this.#opts.scheduler.setTimer(ms, fn) }
  clearTimer (h: TimerHandle): void { this.#opts.scheduler.clearTimer(h) }
  sendRaw (to: PeerAddress, bytes: Uint8Array): void { if (!this.#closed) this.#opts.send(to, bytes) }
  forget (p: RelayPath): void { this.#paths.delete(pathKey(p.allocationId, p.port)) }

  /**
   * Ask `relay` for an allocation and bind its first port. Resolves with our path (state
   * 'waiting' until the peer binds) and the offer for the peer; rejects with RELAY_REFUSED or
   * RELAY_TIMEOUT (then try the next relay: select.ts).
   */
  async allocate (relay: PeerAddress, signal?: AbortSignal): Promise<{ path: RelayPath, offer: RelayOffer }> {
    const pairSecret = randomBytes(PAIR_SECRET_BYTES)
    const bindKey = bindKeyOf(pairSecret)
    const requestId = this.#opts.random(REQUEST_ID_BYTES)
    let cookie: Uint8Array | null = null
    const ok = await this.#request(relay, hex(requestId), signal, () => encodeRelayMessage({ type: RelayType.ALLOCATE, requestId, cookie, bindKey }), (m, resend) => {
      if (m.type === RelayType.ALLOCATE_CHALLENGE) { cookie = m.cookie; resend(); return null }
      if (m.type === RelayType.ALLOCATE_REFUSED) throw errors.RELAY_REFUSED(`relay ${formatHostPort(relay)} refused: ${refuseText(m.reason)}`)
      return m.type === RelayType.ALLOCATE_OK ? m : null
    })
    const path = await this.#bind(relay, ok.allocationId, ok.portA, bindKey, signal)
    return { path, offer: { relay: { ...relay }, allocationId: ok.allocationId, port: ok.portB, pairSecret } }
  }

  /** The other side: bind the port the offer names. Resolves once bound (usually 'forwarding'). */
  async join (offer: RelayOffer, signal?: AbortSignal): Promise<RelayPath> {
    return await this.#bind(offer.relay, offer.allocationId, offer.port, bindKeyOf(offer.pairSecret), signal)
  }

  /** A relay control message that arrived on the node's socket (answers to our requests). */
  onControl (bytes: Uint8Array, from: PeerAddress): void {
    const m = decodeRelayMessage(bytes)
    if (m === null) return
    if ('requestId' in m) {
      const w = this.#waiters.get(hex(m.requestId))
      if (w !== undefined && sameAddress(w.from, from)) w.onMessage(m)
      return
    }
    const p = this.#paths.get(pathKey(m.allocationId, from.port))
    if (p !== undefined && p.relay.host === from.host) p.onAnswer(m) // only from the port we bound
  }

  /**
   * BIND every path again now: after the node's socket moved (Endpoint.rebind, a new network) the
   * relay must learn our new address before it forwards to it (relay.md §5). Without this call
   * the next refresh does it, within RELAY_REFRESH_MS.
   */
  refreshAll (): void {
    for (const p of this.#paths.values()) if (p.state !== 'binding') p.sendBind()
  }

  /** Stop every path (no RELEASE: the daemon is going away; the relay expires them). */
  close (): void {
    this.#closed = true
    for (const p of [...this.#paths.values()]) p.close()
    for (const w of this.#waiters.values()) w.onMessage({ type: RelayType.ALLOCATE_REFUSED, requestId: new Uint8Array(REQUEST_ID_BYTES), reason: RefuseReason.UNAVAILABLE })
  }

  async #bind (relay: PeerAddress, allocationId: Uint8Array, port: number, bindKey: Uint8Array, signal?: AbortSignal): Promise<RelayPath> {
    const path = new RelayPath(this, relay, allocationId, port, bindKey)
    this.#paths.set(pathKey(allocationId, port), path)
    const done = new Promise<void>((resolve, reject) => {
      const timeoutMs = this.#opts.timeoutMs ?? RELAY_REQUEST_TIMEOUT_MS
      let retry: TimerHandle | null = null
      const deadline = this.now() + timeoutMs
      const finish = (err: DmessError | null): void => {
        if (retry !== null) this.clearTimer(retry)
        signal?.removeEventListener('abort', onAbort)
        path.off('closed', onClosed)
        path.off('bound', onBound)
        if (err === null) resolve()
        else { path.close(); reject(err) }
      }
      const onAbort = (): void => { finish(errors.ABORTED(`relay ${formatHostPort(relay)}: bind aborted`)) }
      const onClosed = (): void => { finish(errors.RELAY_FAILED(`relay ${formatHostPort(relay)}: closed while binding`)) }
      const onBound = (): void => { finish(null) }
      const tick = (): void => {
        retry = null
        if (path.state !== 'binding') { finish(null); return }
        if (this.now() >= deadline) { finish(errors.RELAY_TIMEOUT(`relay ${formatHostPort(relay)}: no answer to BIND in ${timeoutMs} ms`)); return }
        path.sendBind()
        retry = this.setTimer(RELAY_RETRY_MS, tick)
      }
      if (signal?.aborted === true) { onAbort(); return }
      signal?.addEventListener('abort', onAbort, { once: true })
      path.once('closed', onClosed)
      path.once('bound', onBound)
      tick()
    })
    await done
    return path
  }

  /**
   * Send a request until `accept` returns an answer (or throws), resending every RELAY_RETRY_MS;
   * `resend` sends again at once (after a challenge).
   */
  async #request<T> (to: PeerAddress, id: string, signal: AbortSignal | undefined, make: () => Uint8Array,
    accept: (m: RelayMessage, resend: () => void) => T | null): Promise<T> {
    const timeoutMs = this.#opts.timeoutMs ?? RELAY_REQUEST_TIMEOUT_MS
    return await new Promise<T>((resolve, reject) => {
      const deadline = this.now() + timeoutMs
      let retry: TimerHandle | null = null
      const finish = (err: unknown, value?: T): void => {
        if (retry !== null) this.clearTimer(retry)
        retry = null
        this.#waiters.delete(id)
        signal?.removeEventListener('abort', onAbort)
        if (err === null) resolve(value as T)
        else reject(err)
      }
      const onAbort = (): void => { finish(errors.ABORTED(`relay ${formatHostPort(to)}: aborted`)) }
      const send = (): void => {
        if (retry !== null) this.clearTimer(retry)
        retry = null
        if (this.now() >= deadline) { finish(errors.RELAY_TIMEOUT(`relay ${formatHostPort(to)}: no answer in ${timeoutMs} ms`)); return }
        this.sendRaw(to, make())
        retry = this.setTimer(RELAY_RETRY_MS, send)
      }
      if (signal?.aborted === true) { onAbort(); return }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.set(id, {
        from: to,
        onMessage: m => {
          if (this.#closed) { finish(errors.RELAY_FAILED('relay client closed')); return }
          try {
            const v = accept(m, send)
            if (v !== null) finish(null, v)
          } catch (err) {
            finish(err)
          }
        }
      })
      send()
    })
  }
}

function pathKey (allocationId: Uint8Array, port: number): string {
  return `${hex(allocationId)}|${port}`
}

function refuseText (r: RefuseReason): string {
  switch (r) {
    case RefuseReason.NETWORK_CAP: return 'too many allocations from this network'
    case RefuseReason.TOTAL_CAP: return 'the relay is full'
    case RefuseReason.UNAVAILABLE: return 'the relay could not open ports'
  }
}
