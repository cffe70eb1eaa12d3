// The relay service (proto-spec/relay.md §2): the I/O around RelayCore. ALLOCATE arrives on the
// node's one socket (the endpoint hands relay control messages here, wire.md §1); each allocation
// gets two fresh UDP ports of its own, so relayed Noise datagrams pass untouched and each side
// sees the relay port as its peer's address. One timer, armed for the core's next deadline.
import type { DatagramSockets, DatagramTransport } from '../io/datagram.js'
import type { PeerAddress } from '../io/address.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'
import { RelayCore, type RelaySend, type RelayStats, type Reservation } from './service-core.js'
import type { RelayLimits } from './constants.js'

export interface RelayServiceOptions {
  /** how allocation ports are opened (real UDP, or a simulated host) */
  sockets: DatagramSockets
  /** the address allocation ports bind to (default 0.0.0.0); the relay's public IP is what clients reach */
  host?: string
  scheduler: Scheduler
  random: (n: number) => Uint8Array
  /** send on the node's main socket (Endpoint.sendDatagram): the answers to ALLOCATE */
  send: (to: PeerAddress, bytes: Uint8Array) => void
  limits?: Partial<RelayLimits>
}

export class RelayService {
  readonly core: RelayCore
  readonly #opts: RelayServiceOptions
  readonly #ports = new Map<number, DatagramTransport>()
  readonly #out: RelaySend[] = []
  #timer: TimerHandle | null = null
  #timerAt = Infinity
  #closed = false

  constructor (opts: RelayServiceOptions) {
    this.#opts = opts
    this.core = new RelayCore({ random: opts.random, now: opts.scheduler.now(), limits: opts.limits })
  }

  /** A relay control message from the node's main socket. Never throws. */
  onControl (bytes: Uint8Array, from: PeerAddress): void {
    if (this.#closed) return
    const r = this.core.onControl(bytes, from, this.#opts.scheduler.now())
    if (r.kind === 'reply') this.#opts.send(from, r.bytes)
    else if (r.kind === 'open') void this.#open(r.reservation)
  }

  stats (): RelayStats & { ports: number } {
    return { ...this.core.stats(), ports: this.#ports.size }
  }

  /** Close every allocation's ports; nothing is forwarded afterwards. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== null) this.#opts.scheduler.clearTimer(this.#timer)
    await Promise.all([...this.#ports.values()].map(async p => { await p.close() }))
    this.#ports.clear()
  }

  async #open (r: Reservation): Promise<void> {
    const opened: DatagramTransport[] = []
    try {
      for (let i = 0; i < 2; i++) opened.push(await this.#opts.sockets.bind({ host: this.#opts.host, port: 0 }))
    } catch {
      for (const p of opened) await p.close()
      if (!this.#closed) this.#opts.send(r.from, this.core.abandon(r))
      return
    }
    if (this.#closed) {
      for (const p of opened) await p.close()
      return
    }
    const [a, b] = opened as [DatagramTransport, DatagramTransport]
    for (const p of opened) {
      this.#ports.set(p.local.port, p)
      const port = p.local.port
      p.onDatagram = (bytes, from) => { this.#onPort(port, bytes, from) }
    }
    this.#opts.send(r.from, this.core.install(r, [a.local.port, b.local.port], this.#opts.scheduler.now()))
    this.#arm()
  }

  #onPort (port: number, bytes: Uint8Array, from: PeerAddress): void {
    if (this.#closed) return
    const out = this.#out
    const ended = this.core.onPortDatagram(port, bytes, from, this.#opts.scheduler.now(), out)
    for (const s of out) this.#ports.get(s.fromPort ?? -1)?.send(s.to, s.bytes)
    out.length = 0
    if (ended !== null) this.#closePorts(ended)
    this.#arm()
  }

  #closePorts (ports: readonly [number, number]): void {
    for (const port of ports) {
      const p = this.#ports.get(port)
      this.#ports.delete(port)
      void p?.close()
    }
  }

  #arm (): void {
    const at = this.core.nextDeadline
    if (this.#closed || at >= this.#timerAt) return
    if (this.#timer !== null) this.#opts.scheduler.clearTimer(this.#timer)
    this.#timer = null
    this.#timerAt = at
    if (at === Infinity) return
    this.#timer = this.#opts.scheduler.setTimer(Math.max(1, at - this.#opts.scheduler.now()), () => { this.#fire() })
  }

  #fire (): void {
    this.#timer = null
    this.#timerAt = Infinity
    if (this.#closed) return
    for (const ports of this.core.tick(this.#opts.scheduler.now())) this.#closePorts(ports)
    this.#arm()
  }
}
