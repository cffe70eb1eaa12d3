// The prekey ring as a running part of a node (proto-spec/pqxdh.md §5): loads the prekey file at
// start (making the first pair if there is none), rotates on schedule with the scheduler's wall
// clock, writes every change before acting on it, wipes deleted pairs once the file no longer
// holds them, and commits accepted session starts (the replay memory, §6). The pure work is in
// prekeys.ts and pqxdh.ts; this adds the file and the timer.
import type { Component } from '../runtime/component.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'
import type { Storage } from '../io/storage.js'
import { wipe, randomBytes } from '../crypto/primitives.js'
import type { Identity } from '../crypto/identity.js'
import { EMPTY_RING, rotatePrekeys, bundleOf, findSet, hasSeen, rememberInitial, wipePrekeySets, nextRotationAt, type KeyRandom, type PrekeyRing, type Rotation } from './prekeys.js'
import { respond, type Response } from './pqxdh.js'
import { loadPrekeyRing, savePrekeyRing } from './prekey-file.js'
import type { PqxdhResult } from './codec.js'

/** The longest a rotation timer waits, so a wall clock that jumps is noticed within this. */
export const PREKEY_CHECK_MAX_MS = 3600_000

export interface PrekeyServiceOptions {
  /** the prekey file, normally <home>/prekeys */
  path: string
  /** prekeyFileKey(storeKey); the service owns it from now on and wipes it at stop */
  fileKey: Uint8Array
  identity: Identity
  scheduler: Scheduler
  /** where the file lives: the disk by default, memory for simulated nodes */
  storage?: Storage
  random?: KeyRandom
  /** a failed write during a scheduled rotation (it is tried again at the next check) */
  onError?: (err: unknown) => void
  /** a new pair was made: its bundle is what peers should now get */
  onRotated?: (bundle: Uint8Array) => void
}

export class PrekeyService implements Component {
  readonly name = 'prekeys'
  readonly #o: PrekeyServiceOptions
  #ring: PrekeyRing = EMPTY_RING
  #timer: TimerHandle | null = null
  #writes: Promise<void> = Promise.resolve()
  #running = false
  #tick: Promise<void> = Promise.resolve()

  constructor (opts: PrekeyServiceOptions) {
    this.#o = opts
  }

  get ring (): PrekeyRing { return this.#ring }

  /** The current bundle (§3.3), to hand to peers that ask. */
  bundle (): Uint8Array { return bundleOf(this.#ring, this.#o.identity) }

  async start (): Promise<void> {
    this.#ring = (await loadPrekeyRing(this.#o.path, this.#o.fileKey, this.#o.storage)) ?? EMPTY_RING
    this.#running = true
    await this.rotateNow()
  }

  /** Resolves once the work a fired timer started (rotation, write, next timer) is done. */
  async settled (): Promise<void> {
    await this.#tick
    await this.#writes
  }

  async stop (): Promise<void> {
    this.#running = false
    await this.#tick
    if (this.#timer !== null) this.#o.scheduler.clearTimer(this.#timer)
    this.#timer = null
    await this.#writes.catch(() => {})
    wipe(this.#o.fileKey)
  }

  /** Rotates per §5.1 at the scheduler's wall time, writes any change, reschedules. */
  async rotateNow (): Promise<void> {
    let rot: Rotation | undefined
    await this.#update(ring => {
      rot = rotatePrekeys(ring, this.#o.identity, this.#o.scheduler.wallNow(), this.#o.random ?? randomBytes)
      return rot.created !== undefined || rot.deleted.length > 0 ? rot.ring : null
    })
    if (rot !== undefined) {
      wipePrekeySets(rot.deleted) // only now: the file on disk no longer holds them
      if (rot.created !== undefined) this.#o.onRotated?.(this.bundle())
    }
    this.#schedule()
  }

  /** PQXDH §3.4 against the current ring; nothing is remembered until commitStart. */
  respond (initialMessage: Uint8Array): PqxdhResult<Response> {
    return respond(this.#o.identity, this.#ring, initialMessage)
  }

  /**
   * Remembers an accepted session start (§6) and writes it, before the caller delivers anything.
   * False when the same start was committed meanwhile (a replay racing the original) or its
   * prekey pair is gone: the caller then drops the message.
   */
  async commitStart (r: Response): Promise<boolean> {
    const next = await this.#update(ring => {
      const set = findSet(ring, r.prekeyId)
      return set === undefined || hasSeen(set, r.ephemeral) ? null : rememberInitial(ring, r.prekeyId, r.ephemeral)
    })
    return next !== null
  }

  /**
   * Changes are one at a time, in order, each computed from the ring the previous one left; the
   * in-memory ring changes only once its file is written. `change` returns null for no change.
   */
  async #update (change: (ring: PrekeyRing) => PrekeyRing | null): Promise<PrekeyRing | null> {
    const run = this.#writes.then(async () => {
      const next = change(this.#ring)
      if (next === null) return null
      await savePrekeyRing(this.#o.path, this.#o.fileKey, next, this.#o.storage)
      this.#ring = next
      return next
    })
    this.#writes = run.then(() => {}, () => {})
    return await run
  }

  #schedule (): void {
    if (!this.#running) return
    if (this.#timer !== null) this.#o.scheduler.clearTimer(this.#timer)
    const delay = Math.min(PREKEY_CHECK_MAX_MS, Math.max(0, nextRotationAt(this.#ring) - this.#o.scheduler.wallNow()))
    this.#timer = this.#o.scheduler.setTimer(delay, () => {
      this.#timer = null
      this.#tick = this.rotateNow().catch(err => {
        this.#o.onError?.(err)
        this.#schedule()
      })
    })
  }
}
