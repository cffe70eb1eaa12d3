// The life of a transfer (proto-spec/files.md §4): one state per side, moved only by the events
// below; a terminal state absorbs everything, so a late or repeated message changes nothing —
// except that a transfer failed on a full disk can be resumed once space is freed.
export type TransferState = 'offered' | 'active' | 'done' | 'declined' | 'cancelled' | 'failed'
export type Direction = 'in' | 'out'

export type TransferEvent =
  | 'accept' // in: the user (or the auto-accept rule) accepted; out: the peer's ACCEPT or first REQUEST
  | 'decline' // in: the user declined; out: the peer's DECLINE
  | 'cancel' // either side's CANCEL with reason USER
  | 'fail' // a CANCEL with any other reason, or a local error (disk full, source changed)
  | 'complete' // in: every chunk verified and the file moved; out: the peer's DONE
  | 'resume' // in: the user resumes a transfer that failed on a full disk; out: the peer's ACCEPT or REQUEST for it (files.md §4.1)

export const TERMINAL: ReadonlySet<TransferState> = new Set(['done', 'declined', 'cancelled', 'failed'])

const NEXT: Record<TransferState, Partial<Record<TransferEvent, TransferState>>> = {
  offered: { accept: 'active', decline: 'declined', cancel: 'cancelled', fail: 'failed' },
  active: { cancel: 'cancelled', fail: 'failed', complete: 'done' },
  done: {},
  declined: {},
  cancelled: {},
  // only a full disk is resumed: the service checks the reason (files.md §4.1)
  failed: { resume: 'active' }
}

/** The state after `event`, or null when the event does not apply (ignored). */
export function nextState (state: TransferState, event: TransferEvent, direction: Direction): TransferState | null {
  // a sender may hear DONE for a transfer it still thinks offered (the ACCEPT was lost with a link)
  if (direction === 'out' && state === 'offered' && event === 'complete') return 'done'
  return NEXT[state][event] ?? null
}
