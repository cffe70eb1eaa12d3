// The NAT probe: asks STUN servers at different IPs for our reflexive address through one
// StunClient (on the node's socket), classifies the mapping (src/stun/classify.ts) and — when a
// server names an OTHER-ADDRESS — the filtering (RFC 5780 §4.4), and asks again
// on an interval and whenever the network looks changed: our local addresses changed, or the DHT's
// peers now report another observed address for us. proto-spec/stun.md §5.
import { addressOf, formatHostPort, type PeerAddress } from '../io/address.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'
import { StunTransactionError, type BindingResult, type ChangeRequest, type StunClient } from './client.js'
import { classifyFiltering, classifyNat, fullCone, pickServers, publiclyReachable, type ChangeOutcome, type FilteringKind, type LocalSocket, type NatKind, type Observation } from './classify.js'

/** Re-probe this often when nothing changes: mappings and routes move slowly. */
export const NAT_PROBE_INTERVAL_MS = 5 * 60_000
/** Look for a network change (local addresses, the DHT's observed address) this often. */
export const NAT_CHANGE_CHECK_MS = 15_000
/** Servers asked per probe: two answers classify; a third covers one that is down. */
export const NAT_PROBE_SERVERS = 3

export interface NatState {
  natKind: NatKind
  /** RFC 4787 §5 filtering, when a server with a second address (OTHER-ADDRESS) answered */
  filtering: FilteringKind
  /** distinct server-reflexive addresses the last probe learned ("host:port") */
  reflexive: string[]
  /** no NAT in the way (natKind 'open', unless the filtering test found a firewall): peers reach any of our ports */
  publiclyReachable: boolean
  /** an endpoint-independent mapping that filters nobody: peers reach our socket at its reflexive address without a punch */
  fullCone: boolean
  /** servers that answered / were asked in the last probe */
  answered: number
  asked: number
  /** scheduler time of the last finished probe, or null before the first */
  probedAt: number | null
}

export interface NatProbeOptions {
  client: StunClient
  scheduler: Scheduler
  /** candidate servers, best first (bootstrap nodes, then DHT contacts); distinct IPs are picked */
  servers: () => PeerAddress[]
  local: () => LocalSocket
  /** what the DHT's PONGs say our address is ("host:port"), if there is a DHT */
  observed?: () => string | null
  intervalMs?: number
  changeCheckMs?: number
  serversPerProbe?: number
  onChange?: (s: NatState) => void
}

/** What the rest of a node reads about its place on the network (src/node/nat.ts implements it). */
export interface NatObserver {
  /** our server-reflexive addresses, as STUN servers saw them */
  reflexive: () => PeerAddress[]
  natKind: () => NatKind
  /** no NAT in the way: peers can reach us at our own address */
  publiclyReachable: () => boolean
}

export const INITIAL_NAT_STATE: NatState = { natKind: 'unknown', filtering: 'unknown', reflexive: [], publiclyReachable: false, fullCone: false, answered: 0, asked: 0, probedAt: null }

export class NatProbe {
  #state: NatState = INITIAL_NAT_STATE
  #timer: TimerHandle | null = null
  #running = false
  #probing: Promise<NatState> | null = null
  #abort: AbortController | null = null
  #nextProbeAt = 0
  #lastLocal = ''
  #lastObserved: string | null = null
  probes = 0

  constructor (readonly opts: NatProbeOptions) {}

  get state (): NatState { return this.#state }

  /** Probes at once, then on the interval and on network changes. */
  start (): void {
    if (this.#running) return
    this.#running = true
    this.#abort = new AbortController()
    this.#lastLocal = localKey(this.opts.local())
    this.#lastObserved = this.opts.observed?.() ?? null
    void this.probe()
    this.#arm()
  }

  stop (): void {
    this.#running = false
    this.#abort?.abort()
    if (this.#timer !== null) this.opts.scheduler.clearTimer(this.#timer)
    this.#timer = null
  }

  /** One probe now (or the one already running). */
  async probe (): Promise<NatState> {
    this.#probing ??= this.#probeOnce().finally(() => { this.#probing = null })
    return await this.#probing
  }

  async #probeOnce (): Promise<NatState> {
    const servers = pickServers(this.opts.servers(), this.opts.serversPerProbe ?? NAT_PROBE_SERVERS)
    const signal = this.#abort?.signal
    const settled = await Promise.allSettled(servers.map(async s => await this.opts.client.binding(s, signal)))
    const answers: BindingResult[] = []
    for (const r of settled) if (r.status === 'fulfilled') answers.push(r.value)
    const behaviour = answers.find(a => a.other !== null)
    const filtering = behaviour === undefined ? 'unknown' : await discoverFiltering(this.opts.client, behaviour.server, signal)
    this.probes++
    this.#nextProbeAt = this.opts.scheduler.now() + (this.opts.intervalMs ?? NAT_PROBE_INTERVAL_MS)
    if (!this.#running && this.#abort?.signal.aborted === true) return this.#state
    const natKind = classifyNat(this.opts.local(), answers satisfies Observation[])
    const reflexive = [...new Set(answers.map(a => addressOf(a.reflexive.host, a.reflexive.port) ?? formatHostPort(a.reflexive)))]
    const next: NatState = { natKind, filtering, reflexive, publiclyReachable: publiclyReachable(natKind, filtering), fullCone: fullCone(natKind, filtering), answered: answers.length, asked: servers.length, probedAt: this.opts.scheduler.now() }
    const changed = next.natKind !== this.#state.natKind || next.filtering !== this.#state.filtering || next.reflexive.join() !== this.#state.reflexive.join()
    this.#state = next
    if (changed) this.opts.onChange?.(next)
    return next
  }

  // one timer: every changeCheckMs look for a network change; probe when one shows or the interval is up
  #arm (): void {
    if (!this.#running) return
    this.#timer = this.opts.scheduler.setTimer(this.opts.changeCheckMs ?? NAT_CHANGE_CHECK_MS, () => {
      this.#timer = null
      if (!this.#running) return
      if (this.#networkChanged() || this.opts.scheduler.now() >= this.#nextProbeAt) void this.probe()
      this.#arm()
    })
  }

  #networkChanged (): boolean {
    const local = localKey(this.opts.local())
    const observed = this.opts.observed?.() ?? null
    const changed = local !== this.#lastLocal || (observed !== null && observed !== this.#lastObserved && this.#lastObserved !== null)
    this.#lastLocal = local
    if (observed !== null) this.#lastObserved = observed
    return changed
  }
}

const localKey = (l: LocalSocket): string => `${l.port}|${[...l.ips].sort().join(',')}`

/**
 * RFC 5780 §4.4, tests II and III at once (they do not disturb each other: both go to the server's
 * primary address, so through the same mapping): ask `server` to answer from its other IP and port,
 * and from its other port only; which answers get through our NAT tells its filtering. A lost
 * answer looks like a filtered one, so each request is retransmitted as any Binding is (client.ts).
 */
export async function discoverFiltering (client: StunClient, server: PeerAddress, signal?: AbortSignal): Promise<FilteringKind> {
  const outcome = async (change: ChangeRequest): Promise<ChangeOutcome> => {
    try {
      await client.binding(server, signal, change)
      return 'answered'
    } catch (err) {
      return err instanceof StunTransactionError && err.failure === 'timeout' ? 'silent' : 'refused'
    }
  }
  const [both, port] = await Promise.all([outcome({ ip: true, port: true }), outcome({ ip: false, port: true })])
  return classifyFiltering(both, port)
}
