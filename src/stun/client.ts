// The STUN Binding client (RFC 8489 §6.1, §6.2.1, §6.3.3): one request per server, retransmitted
// over UDP with a doubling RTO, answered by XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS from an old
// server). I/O comes in through `send`, the scheduler and the random source, and responses are
// handed to `receive` by whoever owns the socket (src/node/nat.ts): the requests leave from the
// node's one UDP socket, so the reflexive address is the one our Noise traffic has. Pure of
// sockets; runs the same on the simulator. proto-spec/stun.md §4.
import { addressOf, type PeerAddress } from '../io/address.js'
import type { Random } from '../io/random.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'
import { Attr, METHOD_BINDING, TRANSACTION_ID_BYTES } from './constants.js'
import { attribute, encodeStun, type StunMessage } from './codec.js'
import { decodeAddress, decodeErrorCode, xorPad } from './attributes.js'

/**
 * RFC 8489 §6.2.1 recommends RTO 500 ms, Rc = 7, Rm = 16 (39.5 s to give up), for a client that
 * knows nothing of the path. Ours probes in the background every few minutes and asks several
 * servers at once, so it gives up sooner: sends at 0, 250, 750, 1750, 3750 ms, then waits 8 × RTO
 * (failure after 5.75 s). A lost answer costs one RTO, the same as the RFC's.
 */
export const STUN_RTO_MS = 250
export const STUN_MAX_REQUESTS = 5
export const STUN_FINAL_WAIT_RTOS = 8

export interface StunClientOptions {
  send: (to: PeerAddress, bytes: Uint8Array) => void
  scheduler: Scheduler
  random: Random
  rtoMs?: number
  /** Rc: requests sent in all */
  maxRequests?: number
  /** Rm: RTOs to wait after the last request */
  finalWaitRtos?: number
}

export interface BindingResult {
  server: PeerAddress
  /** where the server saw us come from: our server-reflexive address */
  reflexive: PeerAddress
  rttMs: number
  /** requests sent before the answer came */
  requests: number
  /** the server's OTHER-ADDRESS (RFC 5780 §7.4): it can run the behaviour tests from there; else null */
  other: PeerAddress | null
  /** where the answer came from (with a CHANGE-REQUEST, another of the server's addresses) */
  from: PeerAddress
}

/** RFC 5780 §7.2: ask the server to answer from its other IP and/or its other port. */
export interface ChangeRequest { ip: boolean, port: boolean }

export type StunFailure = 'timeout' | 'error-response' | 'bad-response' | 'aborted' | 'closed'

export class StunTransactionError extends Error {
  constructor (readonly failure: StunFailure, message: string, readonly errorCode?: number) {
    super(message)
    this.name = 'StunTransactionError'
  }
}

interface Pending {
  server: PeerAddress
  serverKey: string
  transactionId: Uint8Array
  request: Uint8Array
  startedAt: number
  sent: number
  timer: TimerHandle | null
  /** a CHANGE-REQUEST was sent: the answer comes from another of the server's addresses */
  change: boolean
  resolve: (r: BindingResult) => void
  reject: (e: StunTransactionError) => void
  cleanup: () => void
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export class StunClient {
  readonly stats = { requests: 0, retransmissions: 0, answers: 0, timeouts: 0, unmatched: 0 }
  readonly #pending = new Map<string, Pending>()
  readonly #rto: number
  readonly #rc: number
  readonly #rm: number

  constructor (readonly opts: StunClientOptions) {
    this.#rto = opts.rtoMs ?? STUN_RTO_MS
    this.#rc = opts.maxRequests ?? STUN_MAX_REQUESTS
    this.#rm = opts.finalWaitRtos ?? STUN_FINAL_WAIT_RTOS
  }

  get pending (): number { return this.#pending.size }

  /** Ask `server` for our reflexive address. Rejects with a StunTransactionError. */
  async binding (server: PeerAddress, signal?: AbortSignal, change?: ChangeRequest): Promise<BindingResult> {
    return await new Promise<BindingResult>((resolve, reject) => {
      if (signal?.aborted === true) { reject(new StunTransactionError('aborted', 'aborted')); return }
      // §6: 96 random bits, so an off-path attacker cannot forge the answer
      const transactionId = this.opts.random.bytes(TRANSACTION_ID_BYTES)
      const key = hex(transactionId)
      const onAbort = (): void => { this.#finish(key, new StunTransactionError('aborted', 'aborted')) }
      signal?.addEventListener('abort', onAbort, { once: true })
      const p: Pending = {
        server: { ...server },
        serverKey: addressOf(server.host, server.port) ?? `${server.host}:${server.port}`,
        transactionId,
        request: encodeStun({ method: METHOD_BINDING, cls: 'request', transactionId, attributes: change === undefined ? [] : [changeRequest(change)], fingerprint: true }),
        change: change !== undefined && (change.ip || change.port),
        startedAt: this.opts.scheduler.now(),
        sent: 0,
        timer: null,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort)
      }
      this.#pending.set(key, p)
      this.#transmit(key, p)
    })
  }

  /** A decoded response from the socket; true when it answered one of our transactions. */
  receive (m: StunMessage, from: PeerAddress): boolean {
    if (m.legacy || (m.cls !== 'success' && m.cls !== 'error')) return false
    const key = hex(m.transactionId)
    const p = this.#pending.get(key)
    // §6.3: match by transaction id; we also want it from the server we asked (what we classify by),
    // unless we asked it to answer from another address (RFC 5780 §4.4: the 96 random bits suffice)
    if (p === undefined || (!p.change && addressOf(from.host, from.port) !== p.serverKey) || m.method !== METHOD_BINDING) {
      this.stats.unmatched++
      return false
    }
    if (m.cls === 'error') {
      const err = decodeErrorCode(attribute(m, Attr.ERROR_CODE) ?? new Uint8Array(0))
      this.#finish(key, new StunTransactionError('error-response', `STUN error ${err?.code ?? '?'} ${err?.reason ?? ''}`.trim(), err?.code))
      return true
    }
    const xored = attribute(m, Attr.XOR_MAPPED_ADDRESS)
    const plain = attribute(m, Attr.MAPPED_ADDRESS)
    const reflexive = xored !== undefined ? decodeAddress(xored, xorPad(p.transactionId)) : plain !== undefined ? decodeAddress(plain, null) : null
    if (reflexive === null) {
      this.#finish(key, new StunTransactionError('bad-response', 'a Binding success response without a readable mapped address'))
      return true
    }
    this.stats.answers++
    const otherValue = attribute(m, Attr.OTHER_ADDRESS)
    const other = otherValue === undefined ? null : decodeAddress(otherValue, null)
    this.#finish(key, { server: p.server, reflexive, rttMs: this.opts.scheduler.now() - p.startedAt, requests: p.sent, other, from: { host: from.host, port: from.port } })
    return true
  }

  /** Fails every transaction still open. */
  close (): void {
    for (const key of [...this.#pending.keys()]) this.#finish(key, new StunTransactionError('closed', 'the STUN client closed'))
  }

  // §6.2.1: RTO, 2·RTO, 4·RTO … between the Rc requests, then Rm·RTO for the last answer
  #transmit (key: string, p: Pending): void {
    p.sent++
    this.stats.requests++
    if (p.sent > 1) this.stats.retransmissions++
    this.opts.send(p.server, p.request)
    const last = p.sent >= this.#rc
    const wait = last ? this.#rm * this.#rto : this.#rto * 2 ** (p.sent - 1)
    p.timer = this.opts.scheduler.setTimer(wait, () => {
      p.timer = null
      if (!last) { this.#transmit(key, p); return }
      this.stats.timeouts++
      this.#finish(key, new StunTransactionError('timeout', `no STUN answer from ${p.serverKey} after ${p.sent} requests`))
    })
  }

  #finish (key: string, outcome: BindingResult | StunTransactionError): void {
    const p = this.#pending.get(key)
    if (p === undefined) return
    this.#pending.delete(key)
    if (p.timer !== null) this.opts.scheduler.clearTimer(p.timer)
    p.cleanup()
    if (outcome instanceof StunTransactionError) p.reject(outcome)
    else p.resolve(outcome)
  }
}

/** RFC 5780 §7.2: CHANGE-REQUEST, 32 bits: change-IP is 0x4, change-port 0x2. */
function changeRequest (c: ChangeRequest): { type: number, value: Uint8Array } {
  return { type: Attr.CHANGE_REQUEST, value: Uint8Array.of(0, 0, 0, (c.ip ? 0x04 : 0) | (c.port ? 0x02 : 0)) }
}
