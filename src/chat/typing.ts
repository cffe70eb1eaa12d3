// Typing indicators both ways, as pure state over `now` (proto-spec/messaging.md §7).
// Outgoing: TYPING(true) when the user starts editing, refreshed at most every
// TYPING_REFRESH_MS while they keep typing (the peer's indicator lapses after 6 s without a
// refresh), TYPING(false) after TYPING_IDLE_MS without an edit or when the line is emptied.
// A sent message needs no TYPING(false): its arrival clears the peer's indicator.
// Incoming: shown until the peer says stop, a message from them arrives, or PEER_TYPING_SHOW_MS
// pass without a refresh (the daemon expires it too; this is the backstop if its event is lost).

/** At most one TYPING(true) per this interval while the user types. */
export const TYPING_REFRESH_MS = 3000
/** Without an edit for this long, we tell the peer we stopped. */
export const TYPING_IDLE_MS = 5000
/** An incoming indicator is dropped this long after its last refresh. */
export const PEER_TYPING_SHOW_MS = 7000

export interface TypingOut {
  /** we last told the peer we are typing (and have not said stop since) */
  readonly active: boolean
  readonly lastSentAt: number
  readonly lastEditAt: number
}

export const TYPING_IDLE: TypingOut = { active: false, lastSentAt: -Infinity, lastEditAt: -Infinity }

/** What to tell the peer, if anything: true = typing, false = stopped. */
export type TypingSignal = boolean | null

export interface TypingStep { state: TypingOut, signal: TypingSignal }

/** The input line changed; `empty` is whether it is empty now. */
export function typingEdited (s: TypingOut, empty: boolean, now: number): TypingStep {
  if (empty) return s.active ? { state: { ...s, active: false }, signal: false } : { state: s, signal: null }
  if (!s.active || now - s.lastSentAt >= TYPING_REFRESH_MS) {
    return { state: { active: true, lastSentAt: now, lastEditAt: now }, signal: true }
  }
  return { state: { ...s, lastEditAt: now }, signal: null }
}

/** Time passed: stop after the user has been idle. */
export function typingTick (s: TypingOut, now: number): TypingStep {
  if (s.active && now - s.lastEditAt >= TYPING_IDLE_MS) return { state: { ...s, active: false }, signal: false }
  return { state: s, signal: null }
}

/** The line was sent: the message itself ends the indicator on the peer's side. */
export function typingSent (s: TypingOut): TypingOut {
  return { ...s, active: false }
}

/** Leaving the chat: say stop if we said start. */
export function typingLeave (s: TypingOut): TypingStep {
  return s.active ? { state: { ...s, active: false }, signal: false } : { state: s, signal: null }
}
