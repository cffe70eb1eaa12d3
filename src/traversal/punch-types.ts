// The hole-punching state machine's shapes (proto-spec/traversal.md §5–§7): what the caller gives
// the Puncher (punch.ts) and gets back — targets, events, datagrams, side-socket commands, counters
// — and the per-attempt state that punch.ts and its birthday part (punch-birthday.ts) share.
import type { RelayOffer } from '../relay/client.js'
import type { Identity } from '../crypto/identity.js'
import type { Candidate, CandidateKind, NatKind } from './candidates.js'
import type { Outgoing } from './rendezvous.js'
import type { BirthdayRole, Spray } from './birthday.js'

/** A side socket of one attempt: slot `slot` of those opened for punch id `attempt` (hex). */
export interface SlotRef { attempt: string, slot: number }
/** A datagram to send; `via` a side socket instead of the main one. */
export interface PunchOutgoing extends Outgoing { via?: SlotRef }

/** What the caller must do with side sockets (traversal.md §6.4). */
export type SocketCommand =
  /** open `count` side sockets for the attempt, then call socketsOpened() */
  | { op: 'open', attempt: string, count: number }
  /** close the attempt's side sockets, except `keep`: it carries the session with `peer` from now on */
  | { op: 'close', attempt: string, keep: { slot: number, peer: string } | null }

/** What a presence record says about reaching its owner (dht.md §5.2), as the offerer uses it. */
export interface PunchTarget {
  fingerprint: string
  dhPublic: Uint8Array
  rendezvous: Array<{ address: string, tag: Uint8Array }>
  candidates: Candidate[]
  natKind: NatKind
  /** a relay allocation the answerer should join (relay-first, traversal.md §7.1) */
  relay?: RelayOffer
}

/** A stranger's offer, admitted: answer it with answerWithRelay() within PENDING_TTL_MS, or not at all. */
export interface StrangerOffer {
  fingerprint: string
  dhPublic: Uint8Array
  punchId: Uint8Array
  handle: Uint8Array
  /** the rendezvous it came through: the answer goes back there */
  rendezvous: string
}

export type PunchEvent =
  /** a working path to `fingerprint` (offerer: dial it now) */
  | { type: 'path', fingerprint: string, address: string, kind: CandidateKind | 'peer-reflexive', rttMs: number | null, role: 'offer' | 'answer', elapsedMs: number }
  /** no path within PUNCH_TIMEOUT_MS, or no rendezvous answered */
  | { type: 'failed', fingerprint: string, reason: 'no-answer' | 'no-path', natKind: NatKind }
  /** the peer sent a relay offer (in its offer, answer or a relay message): join it; `dial` when we started the punch */
  | { type: 'relay', fingerprint: string, dhPublic: Uint8Array, offer: RelayOffer, dial: boolean }
  /** a stranger (not a contact) wants to reach us, within the stranger budget */
  | { type: 'stranger', offer: StrangerOffer }
  /**
   * a contact's offer, answered: dial `address` now with Noise IK toward `dhPublic` (traversal.md
   * §5.3, the answerer's early dial): the offerer's first probes have opened its NAT toward us
   */
  | { type: 'offered', fingerprint: string, dhPublic: Uint8Array, address: string }

export interface PuncherOptions {
  identity: Identity
  random: (n: number) => Uint8Array
  wallNow: () => number
  /** only contacts may make us punch (traversal.md §5.3) */
  isContact: (fingerprint: string) => boolean
  /** our candidates and NAT kind now */
  candidates: () => Candidate[]
  natKind: () => NatKind
  /** which of a peer's candidates we may send to (address scope, address family) */
  usable?: (c: Candidate) => boolean
  /** take strangers' offers under the stranger budget (the node can answer them with a relay) */
  acceptStrangers?: boolean
}

export interface PunchStats {
  offers: number
  answersReceived: number
  forwardsOpened: number
  notContact: number
  replays: number
  undecryptable: number
  probesSent: number
  paths: number
  failed: number
  /** strangers' offers admitted, and refused for the stranger budget */
  strangers: number
  strangersCapped: number
  /** side sockets we opened as the symmetric side, random-port probes we sent as the cone side, paths either found that way */
  birthdaySockets: number
  birthdayProbes: number
  birthdayPaths: number
  /** symmetric-side attempts that asked for side sockets */
  birthdayAttempts: number
  /** an offer that crossed ours and lost the tie-break (not answered) */
  crossed: number
}

export interface Birthday {
  role: BirthdayRole
  /** hard: side sockets open (0 until the caller opened them); released once told to close them */
  slots: number
  opening: boolean
  released: boolean
  /** hard: our offer or answer, held until the sockets are open and have sent their PROBEs */
  held: PunchOutgoing[]
  /** easy: the guessing */
  spray: Spray | null
}

export interface Attempt {
  role: 'offer' | 'answer'
  /**
   * We want this session: an offer of ours, or an answer that took over our own running offer
   * (crossed offers, the peer's id lower): it reports 'failed' when it runs out, so the caller's
   * relay fallback takes over either way (traversal.md §5.3, §7.2).
   */
  wanted: boolean
  fingerprint: string
  punchId: Uint8Array
  remote: Candidate[]
  natKind: NatKind
  /** offerer: the rendezvous entries, and which one is asked now */
  rendezvous: Array<{ address: string, tag: Uint8Array }>
  /** offerer: the answerer's X25519 identity key, from its record */
  dhPublic: Uint8Array | null
  asked: number
  answered: boolean
  nextAskAt: number
  probing: boolean
  probeAt: number
  sent: number
  lastSentTo: Map<string, number>
  done: boolean
  startedAt: number
  expiresAt: number
  bday: Birthday | null
  /** offerer: the relay offer carried in its offers */
  relay?: RelayOffer
}
