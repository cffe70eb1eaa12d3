// Answering questions about our records (RFC 6762 §5.4, §6, §6.7, §7.1; discovery.md §3.2):
// picks the answer with planResponse, then decides unicast or multicast, delays shared answers
// by 20–120 ms, and multicasts a record at most once a second per link.
import type { Answer, Packet } from 'dns-packet'
import {
  RESPONSE_DELAY_MIN_MS, RESPONSE_DELAY_MAX_MS, MIN_MULTICAST_INTERVAL_MS, QU_MULTICAST_FRACTION,
  UNICAST_ANSWERS_PER_SECOND
} from './constants.js'
import { planResponse, responsePacket, recordKey, type LocalRecords, type ResponsePlan } from './mdns-records.js'
import { sendAddress, type Link } from './links.js'
import type { MdnsSocket } from './mdns-socket.js'
import type { Source } from './mdns-parse.js'

export interface ResponderDeps {
  socket: Pick<MdnsSocket, 'multicast' | 'unicast'>
  now: () => number
  random: () => number
  /** Schedules `fn` in `ms` (cancelled when the component stops). */
  later: (fn: () => void, ms: number) => unknown
  onSent: () => void
  onError: (err: Error) => void
  /** A unicast answer was not sent: over UNICAST_ANSWERS_PER_SECOND. */
  onLimited: () => void
}

export class Responder {
  private readonly deps: ResponderDeps
  /** When each record was last multicast on each link: `<link>|<record key>` → ms. */
  private readonly lastMulticast = new Map<string, number>()
  /** Unicast answers sent in the current one-second window (flood guard). */
  private unicastWindow = { start: -Infinity, count: 0 }

  constructor (deps: ResponderDeps) {
    this.deps = deps
  }

  /** Records that we multicast `answers` on `link` now (announcements count too). */
  noteMulticast (link: Link, answers: Answer[]): void {
    const now = this.deps.now()
    for (const a of answers) this.lastMulticast.set(`${link.name}|${recordKey(a)}`, now)
  }

  answer (query: Packet, rinfo: Source, link: Link, records: LocalRecords): void {
    const plan = planResponse(query, rinfo.port, records)
    if (plan === null) return
    const to = { address: rinfo.address, port: rinfo.port }
    if (plan.legacy) return this.unicast(responsePacket(plan, query), to) // §6.7
    if (plan.qu) {
      // §5.4: unicast, but multicast what the link has not heard for a quarter of its TTL
      this.unicast(responsePacket(plan, query), to)
      const stale = plan.answers.filter(a => this.sinceMulticast(link, a) > ttlMs(a) * QU_MULTICAST_FRACTION)
      if (stale.length > 0) this.multicast(link, { ...plan, answers: stale })
      return
    }
    if (!plan.delay) return this.multicast(link, plan) // §6: unique answers go at once
    const { random } = this.deps
    this.deps.later(() => this.multicast(link, plan),
      RESPONSE_DELAY_MIN_MS + random() * (RESPONSE_DELAY_MAX_MS - RESPONSE_DELAY_MIN_MS))
  }

  private sinceMulticast (link: Link, a: Answer): number {
    const at = this.lastMulticast.get(`${link.name}|${recordKey(a)}`)
    return at === undefined ? Infinity : this.deps.now() - at
  }

  /** §6: a record goes to the group at most once a second per link. */
  private multicast (link: Link, plan: ResponsePlan): void {
    const answers = plan.answers.filter(a => this.sinceMulticast(link, a) >= MIN_MULTICAST_INTERVAL_MS)
    if (answers.length === 0) return
    const additionals = plan.additionals.filter(a => this.sinceMulticast(link, a) >= MIN_MULTICAST_INTERVAL_MS)
    const packet: Packet = { type: 'response', id: 0, flags: 0, answers, additionals }
    this.noteMulticast(link, [...answers, ...additionals])
    this.deps.onSent()
    this.deps.socket.multicast(packet, sendAddress(link)).catch(this.deps.onError)
  }

  /** Unicast answers go wherever the (spoofable) source says: at most N a second, in all. */
  private unicast (packet: Packet, to: { address: string, port: number }): void {
    const now = this.deps.now()
    if (now - this.unicastWindow.start >= 1000) this.unicastWindow = { start: now, count: 0 }
    if (++this.unicastWindow.count > UNICAST_ANSWERS_PER_SECOND) return this.deps.onLimited()
    this.deps.onSent()
    this.deps.socket.unicast(packet, to).catch(this.deps.onError)
  }
}

function ttlMs (a: Answer): number {
  return ((a as { ttl?: number }).ttl ?? 0) * 1000
}
