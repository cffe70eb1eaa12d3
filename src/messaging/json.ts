// The JSON shapes messaging shows to clients: IPC results, CLI `--json` output and bus events
// (proto-spec/messaging.md §9, README "JSON output"). Stable: fields are only ever added.
import type { StoredMessage } from '../store/index.js'
import type { PendingRequest } from './requests.js'
import type { PeerSource, PeerState } from './connections.js'

export type ShownStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'received'

export interface MessageJson {
  id: string
  direction: 'in' | 'out'
  text: string
  /** the sender's clock, ms since the epoch (shown; not used for ordering) */
  timestamp: number
  /** outbound: sending → sent → delivered → read; inbound: received, or read once shown */
  status: ShownStatus
  /** local arrival order within the conversation (the order to show) */
  seq: number
}

export function messageJson (m: StoredMessage): MessageJson {
  const status: ShownStatus = m.direction === 'in' ? (m.read ? 'read' : 'received') : m.status
  return { id: m.id, direction: m.direction, text: m.text, timestamp: m.timestamp, status, seq: m.seq }
}

export interface PeerJson {
  fingerprint: string | null
  /** "host:port" ("[v6]:port"), or null when no address is known */
  address: string | null
  source: PeerSource
  state: PeerState
  /** smoothed round-trip time of the link in ms, null without a link or a sample */
  rtt: number | null
  name: string | null
  contact: boolean
  /**
   * a contact's "last seen", ms since the epoch (our clock): when its session last came up or
   * ended; null for a stranger or a contact never reached. Shown with an offline state.
   */
  lastSeen: number | null
  /**
   * How the link runs (proto-spec/traversal.md §6, §7.4): direct, and which candidate kind of a hole
   * punch won (null when dialled or reached another way), with the probe's round trip; or relayed,
   * through which relay ("host:port"), with the link's round trip through it; null without a link
   */
  path: { via: 'direct', candidate: string | null, probeRttMs: number | null } | { via: 'relayed', relay: string, rttMs: number | null } | null
}

export interface RequestJson {
  fingerprint: string
  name?: string
  /** the greeting, else the first held message */
  text?: string
  /** sender's clock of the first envelope, ms since the epoch */
  timestamp: number
  /** messages held with the request */
  held: number
}

export function requestJson (r: PendingRequest): RequestJson {
  const out: RequestJson = { fingerprint: r.fingerprint, timestamp: r.timestamp, held: r.held.length }
  if (r.name !== undefined) out.name = r.name
  const text = r.greeting ?? r.held[0]?.text
  if (text !== undefined) out.text = text
  return out
}
