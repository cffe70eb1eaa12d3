// Counting dropped datagrams. Decoders only return a reason; the socket owner counts
// with one DropCounter per socket and exposes the snapshot in `dmess status`. proto-spec/wire.md §5

/** Why a datagram was not delivered to any component. wire.md §5 */
export type DropReason =
  /** zero-length datagram */
  | 'empty'
  /** neither STUN nor a dmess marker byte (top two bits) */
  | 'not-dmess'
  /** longer than MAX_DATAGRAM_BYTES */
  | 'too-large'
  /** dmess marker with a version we do not speak */
  | 'unsupported-version'
  /** known version, type number not defined (or reserved) */
  | 'unknown-type'
  /** shorter than the type's fixed layout or minimum */
  | 'truncated'
  /** a field holds a forbidden value (zero index, unknown pattern, bad length byte, …) */
  | 'bad-field'

export const DROP_REASONS: readonly DropReason[] = [
  'empty', 'not-dmess', 'too-large', 'unsupported-version', 'unknown-type', 'truncated', 'bad-field'
]

export class DropCounter {
  private readonly counts = new Map<DropReason, number>()

  count (reason: DropReason): void {
    this.counts.set(reason, this.get(reason) + 1)
  }

  get (reason: DropReason): number {
    return this.counts.get(reason) ?? 0
  }

  get total (): number {
    let n = 0
    for (const v of this.counts.values()) n += v
    return n
  }

  /** Every reason with its count (zeros included), for status output. */
  snapshot (): Record<DropReason, number> {
    const out = {} as Record<DropReason, number>
    for (const r of DROP_REASONS) out[r] = this.get(r)
    return out
  }
}
