// Text from the network, made safe to print on a terminal. Everything a peer chose (a message, a
// contact request's name and greeting, a name learned from an invite) reaches the user's terminal
// through `terminalSafe`: the CLI's lines (src/cli/) and the chat screen (src/chat/) alike.
// A terminal acts on some code points instead of drawing them: C0/C1 controls and DEL (ESC starts
// the sequences that clear the screen, move the cursor, retitle the window, ECMA-48 §5; CR
// overwrites a line; a newline forges one), the bidi embeddings, overrides and isolates that
// reorder what is shown (UAX #9 §2: "evil" drawn as "live"), and invisible characters that make
// two different strings look the same (zero-width space, word joiner, BOM). Each is shown visibly
// and inertly instead: a C0 control or DEL as its Control Pictures glyph (U+2400 block: ESC as
// "␛"), anything else as a `\u{…}` escape. Ordinary text (accents, CJK, emoji) is left as it is.
// Below wire/ and config/ so that they can refuse such text where it must not occur at all
// (src/wire/payloads.ts: a contact request's name and greeting; src/config/schema.ts: our name).

/**
 * The code points shown escaped: C0, DEL, C1; U+061C (Arabic letter mark); U+200B–U+200F (zero
 * width space, non-joiner, joiner, LRM, RLM); U+2028–U+202E (line and paragraph separators, bidi
 * embeddings and overrides); U+2060–U+2064 (word joiner, invisible operators); U+2066–U+206F (bidi
 * isolates, deprecated format characters); U+FEFF (BOM); U+FFF9–U+FFFB (interlinear annotation);
 * lone surrogates (not text at all).
 */
const UNSAFE_ABOVE_C0 = '\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb'
const UNSAFE = new RegExp(`[\\u0000-\\u001f${UNSAFE_ABOVE_C0}]|\\p{Surrogate}`, 'gu')
/** What JSON.stringify leaves raw of that set: it escapes C0 and lone surrogates itself. */
const UNSAFE_IN_JSON = new RegExp(`[${UNSAFE_ABOVE_C0}]`, 'g')
const ZWJ = 0x200d
/** What may stand before a zero-width joiner inside an emoji sequence (UTS #51 §1.4.9, ZWJ sequences). */
const EMOJI_BEFORE_ZWJ = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f]$/u
const EMOJI_AFTER_ZWJ = /^\p{Extended_Pictographic}/u
const CONTROL_PICTURES = 0x2400
const DEL = 0x7f
const SYMBOL_FOR_DELETE = 0x2421

export interface TerminalSafeOptions {
  /**
   * Keep line breaks (CR LF and a lone CR become LF) and turn tabs into two spaces, for a view
   * that wraps text into rows itself (the chat screen). Otherwise the text is one line: a newline
   * shows as "␊", so a peer cannot forge a line that looks like ours.
   */
  multiline?: boolean
}

/** `text` with every code point a terminal would act on or hide shown visibly instead. */
export function terminalSafe (text: string, opts: TerminalSafeOptions = {}): string {
  const src = opts.multiline === true ? text.replace(/\r\n?/g, '\n').replace(/\t/g, '  ') : text
  return src.replace(UNSAFE, (ch: string, at: number) => {
    const cp = ch.codePointAt(0) ?? 0
    if (opts.multiline === true && cp === 0x0a) return ch
    if (cp === ZWJ && joinsEmoji(src, at)) return ch
    return visible(cp)
  })
}

/** True if `terminalSafe` would leave the text as it is (for one line): nothing to escape. */
export function isTerminalSafe (text: string): boolean {
  return terminalSafe(text) === text
}

/**
 * JSON text for a terminal: `JSON.stringify`, then every code point of the set above that it
 * leaves raw (DEL, C1, bidi, invisible formatting; it escapes C0 and lone surrogates itself) as a
 * \uXXXX escape (RFC 8259 §7). They occur only inside strings, so the output is the same JSON
 * value, and a script that parses it gets exactly what the peer sent.
 */
export function terminalSafeJson (value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** A zero-width joiner between two emoji (👩‍💻) belongs to the picture: it stays. */
function joinsEmoji (text: string, at: number): boolean {
  return EMOJI_BEFORE_ZWJ.test(text.slice(Math.max(0, at - 2), at)) && EMOJI_AFTER_ZWJ.test(text.slice(at + 1, at + 3))
}

function visible (cp: number): string {
  if (cp < 0x20) return String.fromCodePoint(CONTROL_PICTURES + cp)
  if (cp === DEL) return String.fromCodePoint(SYMBOL_FOR_DELETE)
  return `\\u{${cp.toString(16).padStart(4, '0')}}`
}
