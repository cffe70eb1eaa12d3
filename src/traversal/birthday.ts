// Birthday punching (proto-spec/traversal.md §6.3; Ford, Srisuresh & Kegel, "Peer-to-Peer
// Communication Across Network Address Translators", USENIX 2005, §5; RFC 4787 §4.1), the pure
// parts. When one side's NAT maps every destination to a new random port ("hard", NAT kind
// address-dependent) and the other's keeps one mapping ("easy", endpoint-independent), the easy
// side cannot learn which port the hard side's packets will come from. So the hard side opens
// BIRTHDAY_SOCKETS mappings at once — one PROBE from each of as many side sockets, to the easy
// side's reflexive address — and the easy side sends paced PROBEs to distinct random ports of the
// hard side's IP. Each lands on an open mapping with probability n/R (n sockets, R ports in the
// range), so after k probes P(hit) = 1 − (1 − n/R)^k: with n = 256 and R = 64 512, half the
// attempts hit within 175 probes and 99.99 % within 2 400 (Tailscale's "How NAT traversal
// works" makes the same count for 256 ports). The NAT that filters by address and port lets the
// hit in because the hard side's PROBE from that mapping went to exactly the easy side's address.
import type { Candidate, NatKind } from './candidates.js'
import { addressOf } from '../io/address.js'
import { BIRTHDAY_PORT_MIN, BIRTHDAY_PORT_MAX, BIRTHDAY_PROBES_PER_TICK, BIRTHDAY_TICK_MS, BIRTHDAY_MAX_PROBES, BIRTHDAY_CATCH_UP_TICKS } from './constants.js'

export type BirthdayRole = 'hard' | 'easy'

/** Which side of a birthday punch we are, from both NAT kinds; null when it does not apply. */
export function birthdayRole (mine: NatKind, theirs: NatKind): BirthdayRole | null {
  if (mine === 'address-dependent' && theirs === 'endpoint-independent') return 'hard'
  if (mine === 'endpoint-independent' && theirs === 'address-dependent') return 'easy'
  return null // both symmetric: a relay's case (§7); cone–cone and open need no guessing; unknown: do not gamble sockets
}

/** The hard side's target: the easy side's reflexive address (its mapping is the same toward everyone). */
export function hardTarget (remote: readonly Candidate[]): string | null {
  const c = remote.find(r => r.kind === 'reflexive')
  return c === undefined ? null : `${c.host}:${c.port}`
}

/** The easy side's target: the hard side's public IP (its reflexive addresses' ports are of no use). */
export function easyTarget (remote: readonly Candidate[]): string | null {
  return remote.find(r => r.kind === 'reflexive')?.host ?? null
}

/** Chance that k random distinct probes find one of n open ports among R (without replacement ≥ this). */
export function hitProbability (n: number, k: number, range = BIRTHDAY_PORT_MAX - BIRTHDAY_PORT_MIN + 1): number {
  return 1 - Math.pow(1 - n / range, k)
}

/**
 * Distinct random ports from [min, max], drawn one at a time: a Fisher–Yates shuffle done lazily,
 * with only the swapped positions stored (at most one entry per draw).
 */
export class PortDraw {
  readonly #swapped = new Map<number, number>()
  readonly #span: number
  #drawn = 0

  constructor (private readonly random: (n: number) => Uint8Array, private readonly min = BIRTHDAY_PORT_MIN, max = BIRTHDAY_PORT_MAX) {
    this.#span = max - min + 1
  }

  get drawn (): number { return this.#drawn }

  next (): number | null {
    const i = this.#drawn
    if (i >= this.#span) return null
    const j = i + this.#below(this.#span - i)
    const at = (k: number): number => this.#swapped.get(k) ?? k
    const pick = at(j)
    this.#swapped.set(j, at(i))
    this.#swapped.delete(i)
    this.#drawn++
    return this.min + pick
  }

  /** Uniform in [0, n) by rejection (no modulo bias), from 32-bit draws. */
  #below (n: number): number {
    const limit = Math.floor(0x1_0000_0000 / n) * n
    for (;;) {
      const b = this.random(4)
      const x = ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!
      if (x < limit) return x % n
    }
  }
}

/**
 * The easy side's guessing for one attempt: BIRTHDAY_PROBES_PER_TICK distinct random ports of
 * `ip` every BIRTHDAY_TICK_MS, at most BIRTHDAY_MAX_PROBES in all. The ticks are counted from the
 * start, not from the last call: a timer that fires late (a busy event loop) sends the ticks it
 * missed, up to BIRTHDAY_CATCH_UP_TICKS at once, so the rate stays the one the hit time and the
 * relay race are reckoned with (traversal.md §6.3) and never goes above it.
 */
export class Spray {
  sent = 0
  /** when the next probes are due; Infinity once stopped or spent */
  nextAt: number
  readonly #ports: PortDraw

  /** when the first probes were due (the caller's `now` clock) */
  readonly startedAt: number

  constructor (readonly ip: string, random: (n: number) => Uint8Array, now: number) {
    this.#ports = new PortDraw(random)
    this.nextAt = now
    this.startedAt = now
  }

  get active (): boolean { return this.nextAt !== Infinity }

  /** The addresses to probe now ("ip:port"); none past the cap. */
  due (now: number): string[] {
    const ticks = Math.max(0, Math.floor((now - this.startedAt) / BIRTHDAY_TICK_MS)) + 1
    const owed = Math.min(ticks * BIRTHDAY_PROBES_PER_TICK, BIRTHDAY_MAX_PROBES) - this.sent
    const n = Math.min(owed, BIRTHDAY_CATCH_UP_TICKS * BIRTHDAY_PROBES_PER_TICK)
    const out: string[] = []
    while (out.length < n) {
      const port = this.#ports.next()
      const to = port === null ? null : addressOf(this.ip, port)
      if (to === null) { this.nextAt = Infinity; return out }
      this.sent++
      out.push(to)
    }
    // still owed past the catch-up bound: the next tick sends more
    this.nextAt = this.sent >= BIRTHDAY_MAX_PROBES ? Infinity : n < owed ? now + BIRTHDAY_TICK_MS : this.startedAt + ticks * BIRTHDAY_TICK_MS
    return out
  }

  stop (): void { this.nextAt = Infinity }
}
