// What the parts of the messaging service share: the daemon's store, identity, bus, logger and
// clocks, the contact cache, and the counters `messaging.stats` reports (messaging.md §8).
import type { Logger } from 'pino'
import type { Identity } from '../crypto/identity.js'
import type { EventBus } from '../runtime/events.js'
import type { Store } from '../store/index.js'
import type { Scheduler } from '../io/scheduler.js'
import type { DatagramSockets } from '../io/datagram.js'
import type { ContactCache } from './contact-cache.js'
import { PayloadType } from '../wire/constants.js'

export interface MessagingCounters {
  /** frames received on links */
  framesIn: number
  /** frames from a blocked fingerprint (opened only to be acknowledged and dropped), and what was queued when it was blocked */
  blocked: number
  /** a blocked fingerprint's envelopes dropped unread after opening (TEXT and CONTACT_REQUEST acknowledged) */
  discarded: number
  /** dropped by the peer's token bucket */
  rateLimited: number
  /** dropped because the peer's inbound queue was full */
  queueFull: number
  /** not a frame, or an envelope that did not open (by reason) */
  malformed: number
  rejected: Record<string, number>
  /** TEXT stored, duplicates seen (and re-acknowledged) */
  textIn: number
  duplicates: number
  /** stranger messages held with a request; request envelopes dropped (declined or full) */
  held: number
  requestsDropped: number
  receiptsIn: number
  /** envelopes of a kind we do not handle (FILE for now), or signals from strangers */
  ignored: number
  /** envelopes we sent, and sends a link refused or lost */
  envelopesOut: number
  /** of those, by payload type and version ("TEXT v2", "CONTACT_REQUEST v1"); and PREKEY_REQUEST / PREKEY_BUNDLE frames sent */
  envelopesByType: Record<string, number>
  prekeyFramesOut: number
  sendFailures: number
  /** of those, envelope v2 (Double Ratchet, envelope.md §8) sent and opened; sessions a contact started that replaced a confirmed one */
  ratchetOut: number
  ratchetIn: number
  /** of those, BATCH envelopes (several TEXTs in one, envelope.md §3.7) sealed and opened */
  batchesOut: number
  batchesIn: number
  sessionResets: number
  /** unanswered session starts of ours dropped as too old for the peer's prekeys (envelope.md §8.3) */
  staleStarts: number
  /** PQXDH session starts of ours and of peers' we opened (envelope.md §8.3) */
  sessionsStarted: number
  sessionsAnswered: number
  /** link-ups where we waited for the peer's start (envelope.md §8.3), and of those, waits that ran out */
  startWaits: number
  startWaitsExpired: number
  /** PRESENCE frames sent (messaging.md §7; an envelope PRESENCE is counted in envelopesByType) */
  presenceFramesOut: number
  /** links closed for lack of acknowledgement progress (a restarted or vanished peer) */
  linkStalls: number
  sessionsRefused: number
  dialsStarted: number
  dialsFailed: number
  /** DHT lookups of wanted peers started, and those that found a usable record (§5.2) */
  lookupsStarted: number
  lookupsFound: number
  listenerErrors: number
}

const PAYLOAD_NAMES = new Map<number, string>(Object.entries(PayloadType).map(([name, code]) => [code, name]))

/** One envelope sent: `envelopesOut` and its line in `envelopesByType` ("TEXT v2"). */
export function countEnvelope (c: MessagingCounters, type: number, v2: boolean): void {
  c.envelopesOut++
  const key = `${PAYLOAD_NAMES.get(type) ?? `0x${type.toString(16)}`} ${v2 ? 'v2' : 'v1'}`
  c.envelopesByType[key] = (c.envelopesByType[key] ?? 0) + 1
}

export function newCounters (): MessagingCounters {
  return {
    framesIn: 0, blocked: 0, discarded: 0, rateLimited: 0, queueFull: 0, malformed: 0, rejected: {}, textIn: 0, duplicates: 0,
    held: 0, requestsDropped: 0, receiptsIn: 0, ignored: 0, envelopesOut: 0, envelopesByType: {}, prekeyFramesOut: 0, sendFailures: 0, ratchetOut: 0, ratchetIn: 0, batchesOut: 0, batchesIn: 0, sessionResets: 0, staleStarts: 0, sessionsStarted: 0, sessionsAnswered: 0, startWaits: 0, startWaitsExpired: 0, presenceFramesOut: 0, linkStalls: 0,
    sessionsRefused: 0, dialsStarted: 0, dialsFailed: 0, lookupsStarted: 0, lookupsFound: 0, listenerErrors: 0
  }
}

export interface MessagingContext {
  store: () => Store
  identity: Identity
  events: EventBus
  log: Logger
  /** timers, and the clocks below come from it */
  scheduler: Scheduler
  /** wall clock, ms since the epoch: timestamps and deadlines (scheduler.wallNow) */
  now: () => number
  /** [0, 1): jitter only */
  random: () => number
  /**
   * n fresh random bytes that are not key material: message ids (envelope.md §2). From the
   * world (src/io/random.ts), so a simulated node's ids, and the order of everything keyed by
   * them, replay with the seed.
   */
  randomBytes: (n: number) => Uint8Array
  /** the world's datagram sockets: LAN discovery opens its multicast socket on them */
  sockets: DatagramSockets
  contacts: ContactCache
  counters: MessagingCounters
}

export function hex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

export function unhex (s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'))
}
