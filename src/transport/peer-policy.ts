// At most one open session per peer (proto-spec/session.md §3.1). Session ids let a handshake
// say which session it rekeys, so a peer that restarted, or a second connect, opens a *new*
// session; this policy then decides which one the node keeps, the same way on both ends.
// Pure: decisions only; the SessionManager closes the loser.
import type { SessionCore } from './session-core.js'

/**
 * Two sessions opened from opposite directions this close together are a simultaneous open
 * (both sides dialled at once), not a reconnect. Generous: handshakes retry for seconds.
 */
export const SIMULTANEOUS_OPEN_WINDOW_MS = 10_000

/**
 * Does the newly established session `n` replace the older open session `o` with the same peer?
 * Normally yes — the newest handshake wins: the peer reconnected, restarted, or we dialled again.
 * In a simultaneous open (opposite directions, within the window) both ends must pick the same
 * survivor without talking: a direct session over one through a relay (`relayed`: the address is
 * a relay port, which both ends know of their own relayed session), else the session initiated by
 * the lexicographically smaller fingerprint. The first rule lets a session move off a relay at
 * once from either side (relay.md §8): the side that answered a first contact with a relay dials
 * direct as soon as the stranger is its contact, whoever dialled the relayed session.
 */
export function supersedes (n: SessionCore, o: SessionCore, localFingerprint: string, now: number, relayed: (s: SessionCore) => boolean = () => false): boolean {
  if (n.outbound === o.outbound || now - o.createdAt >= SIMULTANEOUS_OPEN_WINDOW_MS) return true
  const oldRelayed = relayed(o)
  if (oldRelayed !== relayed(n)) return oldRelayed
  const initiator = (s: SessionCore): string => s.outbound ? localFingerprint : s.remoteFingerprint
  return initiator(n) < initiator(o)
}
