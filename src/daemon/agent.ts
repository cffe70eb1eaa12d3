// The unlock agent (`dmess unlock`, proto-spec/ipc.md §14): the daemon in a mode that holds the
// unlocked keys and the store and serves the socket for a time the user chose, with no networking
// (its node sits on src/io/offline.ts's sockets). Here: the duration a user types, and the
// component that stops the agent when that time is up.
import { errors } from '../errors.js'
import type { Component } from '../runtime/component.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'

/** `dmess unlock` without --for. */
export const DEFAULT_UNLOCK_MS = 3600_000
/** The longest --for: past a week, keys held unlocked are better held by a daemon the user runs on purpose. */
export const MAX_UNLOCK_MS = 7 * 86_400_000
/**
 * The timer looks at the clocks at least this often. A monotonic timer alone stands still while
 * the machine sleeps (Linux CLOCK_MONOTONIC), so a laptop suspended mid-unlock would stay unlocked
 * for the time it slept: the wall clock is read too, and the agent locks when either says so.
 */
export const AGENT_CHECK_MS = 10_000

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }
const DURATION = /^(?:\d{1,7}[smhd])+$/

/** "15m", "2h", "1h30m", "90s", "1d" → milliseconds. Throws BAD_ARGUMENT (one line) for anything else. */
export function parseDuration (text: string, flag = '--for'): number {
  const s = text.trim().toLowerCase()
  if (/^(0+[smhd]?|forever|never|inf(inite)?)$/.test(s)) {
    throw errors.BAD_ARGUMENT(`${flag} must be longer than 0 (at most ${formatDuration(MAX_UNLOCK_MS)}); to keep the keys unlocked with no end, run the daemon: dmess daemon --detach`)
  }
  if (!DURATION.test(s)) throw errors.BAD_ARGUMENT(`${flag} must be a duration like 15m, 2h or 1h30m (units s, m, h, d), got ${JSON.stringify(text)}`)
  let ms = 0
  for (const [, n, unit] of s.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * (UNITS[unit as string] as number)
  if (ms === 0) throw errors.BAD_ARGUMENT(`${flag} must be longer than 0, got ${JSON.stringify(text)}`)
  if (ms > MAX_UNLOCK_MS) throw errors.BAD_ARGUMENT(`${flag} must be at most ${formatDuration(MAX_UNLOCK_MS)}, got ${JSON.stringify(text)}`)
  return ms
}

/** Milliseconds as `parseDuration` reads them back, largest units first: 5400000 → "1h30m". */
export function formatDuration (ms: number): string {
  let left = Math.max(0, Math.round(ms / 1000)) * 1000
  if (left === 0) return '0s'
  let out = ''
  for (const unit of ['d', 'h', 'm', 's']) {
    const size = UNITS[unit] as number
    if (left >= size) { out += `${Math.floor(left / size)}${unit}`; left %= size }
  }
  return out
}

export interface AgentTimerOptions {
  /** how long from start the agent stays unlocked */
  lockAfterMs: number
  scheduler: Scheduler
  /** called once, when the time is up */
  expire: () => void
  checkMs?: number
}

/**
 * Stops the agent `lockAfterMs` after it started, by the monotonic clock or the wall clock,
 * whichever gets there first (AGENT_CHECK_MS). Started last but the socket, so the time counts
 * from when the keys are unlocked and the store open; stopping it only cancels the timer.
 */
export class AgentTimer implements Component {
  readonly name = 'agent-timer'
  #monoDeadline = 0
  #wallDeadline = 0
  #timer: TimerHandle | null = null
  #fired = false

  constructor (private readonly opts: AgentTimerOptions) {}

  /** When the agent locks (ms since the Unix epoch); 0 before start. */
  get locksAt (): number { return this.#wallDeadline }

  async start (): Promise<void> {
    const s = this.opts.scheduler
    this.#monoDeadline = s.now() + this.opts.lockAfterMs
    this.#wallDeadline = s.wallNow() + this.opts.lockAfterMs
    this.#arm()
  }

  async stop (): Promise<void> {
    if (this.#timer !== null) this.opts.scheduler.clearTimer(this.#timer)
    this.#timer = null
  }

  #arm (): void {
    const s = this.opts.scheduler
    const left = Math.min(this.#monoDeadline - s.now(), this.#wallDeadline - s.wallNow())
    if (left <= 0) {
      this.#timer = null
      if (!this.#fired) { this.#fired = true; this.opts.expire() }
      return
    }
    this.#timer = s.setTimer(Math.min(left, this.opts.checkMs ?? AGENT_CHECK_MS), () => { this.#arm() })
  }
}
