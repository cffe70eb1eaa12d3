// Session records encoded only when the store keeps them (proto-spec/envelope.md §8.4). Every
// ratchet step hands the store a record of the peer's sessions to write with the message it
// produced or consumed, but a batch writes only each peer's newest record (src/store/sessions.ts):
// in a burst most records are replaced before they are written. So a write is a snapshot of the
// sessions as they were at that step (a few references: states are never mutated, ratchet.ts),
// encoded on first read. What that costs: a replaced state cannot be wiped at once, since a
// snapshot still to be written may hold it; it is wiped once the store has taken a newer record
// of the peer (no older one is read after that), or when MAX_DEFERRED have piled up.
import { disposeState, type RatchetState } from '../ratchet/index.js'
import type { SessionWrite } from '../store/index.js'
import { encodePeerSessions, type PeerSessions } from './record.js'

/**
 * Replaced states (or writes not yet taken by the store) per peer past which the peer's pending
 * records are encoded and the states wiped at once. Above what a burst leaves waiting: a batch
 * takes up to 2,000 steps (MAX_GROUP_WEIGHT, src/store/group.ts) while the one before is written,
 * and at 256 a `messages.sendMany` burst hit it every few hundred messages (each time encoding
 * every record waiting). Costs ~1 KB a step while the store lags, at most ~4 MB a peer.
 */
export const MAX_DEFERRED = 4096

interface Retired { old: RatchetState, next: RatchetState | undefined, seq: number }

export class DeferredRecords {
  readonly #retired = new Map<string, Retired[]>()
  readonly #pending = new Map<string, SessionWrite[]>()
  #seq = 0
  #version = 0

  /** `old` was replaced by `next` (or dropped): its secrets not in `next` are wiped once no record still to be written can hold them. */
  retire (peer: string, old: RatchetState, next?: RatchetState): void {
    const list = this.#retired.get(peer) ?? []
    list.push({ old, next, seq: ++this.#seq })
    this.#retired.set(peer, list)
    if (list.length > MAX_DEFERRED) this.settle(peer)
  }

  /** The record of `p` as it is now (later steps do not change it), encoded when first read. */
  write (peer: string, p: PeerSessions): SessionWrite {
    const snapshot: PeerSessions = { list: p.list.map(s => ({ ...s })) }
    const retiredUpTo = this.#seq
    const version = ++this.#version
    let value: Uint8Array | undefined
    const w: SessionWrite = {
      peer,
      version,
      get value () { return (value ??= encodePeerSessions(snapshot)) },
      stored: () => { this.#stored(peer, version, retiredUpTo) }
    }
    const pending = this.#pending.get(peer) ?? []
    pending.push(w)
    this.#pending.set(peer, pending)
    if (pending.length > MAX_DEFERRED) this.settle(peer)
    return w
  }

  /** Encodes every write of `peer` not yet taken by the store, then wipes its replaced states (a peer forgotten, or too much deferred). */
  settle (peer: string): void {
    for (const w of this.#pending.get(peer) ?? []) void w.value
    this.#pending.delete(peer)
    for (const r of this.#retired.get(peer) ?? []) disposeState(r.old, r.next)
    this.#retired.delete(peer)
  }

  /** The store sealed `version` into a batch: it reads no older write of `peer`, so states replaced before that write was made go. */
  #stored (peer: string, version: number, retiredUpTo: number): void {
    const retired = this.#retired.get(peer)
    if (retired !== undefined) {
      let n = 0
      while (n < retired.length && retired[n]!.seq <= retiredUpTo) { disposeState(retired[n]!.old, retired[n]!.next); n++ }
      if (n === retired.length) this.#retired.delete(peer)
      else retired.splice(0, n)
    }
    const pending = this.#pending.get(peer)
    if (pending !== undefined) {
      const left = pending.filter(w => w.version > version)
      if (left.length === 0) this.#pending.delete(peer)
      else this.#pending.set(peer, left)
    }
  }
}
