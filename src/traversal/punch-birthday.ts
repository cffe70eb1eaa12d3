// Birthday punching's part of an attempt (proto-spec/traversal.md §6.3–§6.4, birthday.ts): which
// side is hard (symmetric: opens side sockets and probes from each) and which easy (cone: sprays
// paced probes at random ports of the symmetric side's IP), the spray's probes, and the side
// sockets' release. At most one attempt of each kind at a time: one socket budget and one probe
// rate bound per node. The Puncher (punch.ts) calls in; the side-socket commands go to its caller.
import { encodeTraversal } from './messages.js'
import type { NatKind } from './candidates.js'
import { TraversalType, BIRTHDAY_SOCKETS } from './constants.js'
import { birthdayRole, easyTarget, hardTarget, Spray } from './birthday.js'
import type { Attempt, PunchOutgoing, PunchStats, SocketCommand } from './punch-types.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

export interface BirthdayPartOptions {
  random: (n: number) => Uint8Array
  /** our NAT kind now */
  natKind: () => NatKind
  /** every attempt the Puncher holds */
  attempts: () => Iterable<Attempt>
  stats: PunchStats
  /** the Puncher's side-socket commands for its caller */
  sockets: SocketCommand[]
}

export class BirthdayPart {
  constructor (private readonly o: BirthdayPartOptions) {}

  /** At most one symmetric-side attempt holds side sockets at a time (BIRTHDAY_SOCKETS in all). */
  startHard (a: Attempt, theirs: NatKind): boolean {
    if (a.bday !== null || birthdayRole(this.o.natKind(), theirs) !== 'hard' || hardTarget(a.remote) === null) return false
    for (const o of this.o.attempts()) if (o !== a && o.bday?.role === 'hard' && !o.bday.released) return false
    a.bday = { role: 'hard', slots: 0, opening: true, released: false, held: [], spray: null }
    this.o.stats.birthdayAttempts++
    this.o.sockets.push({ op: 'open', attempt: hex(a.punchId), count: BIRTHDAY_SOCKETS })
    return true
  }

  /** The cone side sprays random ports; at most one attempt at a time does (one rate bound for the node). */
  startEasy (a: Attempt, theirs: NatKind, now: number): void {
    const ip = easyTarget(a.remote)
    if (a.bday !== null || ip === null || birthdayRole(this.o.natKind(), theirs) !== 'easy') return
    for (const o of this.o.attempts()) if (o !== a && !o.done && o.bday?.spray?.active === true) return
    a.bday = { role: 'easy', slots: 0, opening: false, released: true, held: [], spray: new Spray(ip, this.o.random, now) }
  }

  /** The cone side's probes due now (birthday.ts Spray: paced, distinct ports, capped); none once done. */
  spray (a: Attempt, now: number): PunchOutgoing[] {
    const spray = a.bday?.spray
    if (spray == null) return []
    if (a.done) {
      spray.stop()
      return []
    }
    const bytes = encodeTraversal({ type: TraversalType.PROBE, punchId: a.punchId, round: 0, answerer: a.role === 'answer' })
    const out = spray.due(now).map(to => {
      a.lastSentTo.set(to, now)
      return { to, bytes }
    })
    this.o.stats.birthdayProbes += out.length
    return out
  }

  /** The attempt is over (or won): its side sockets go, but for the winner. */
  release (a: Attempt, keep: { slot: number, peer: string } | null): void {
    const b = a.bday
    if (b === null || b.role !== 'hard' || b.released) return
    b.released = true
    b.held.length = 0
    this.o.sockets.push({ op: 'close', attempt: hex(a.punchId), keep })
  }
}
