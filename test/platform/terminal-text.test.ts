// The one sanitiser for text a peer chose (src/platform/terminal-text.ts): what a terminal would
// act on or hide is shown visibly and inertly, ordinary text of any script is left as it is.
import t from 'tap'
import { isTerminalSafe, terminalSafe, terminalSafeJson } from '../../src/platform/terminal-text.js'
import { testRng } from '../helpers/seed.js'

/** Every code point the sanitiser must never let through (the spec's list, proto-spec/envelope.md §3.5). */
function isDangerous (cp: number): boolean {
  return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || cp === 0x061c ||
    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
    (cp >= 0x2066 && cp <= 0x206f) || cp === 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xd800 && cp <= 0xdfff)
}

function dangerousIn (s: string): number[] {
  const out: number[] = []
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i) ?? 0
    if (cp > 0xffff) { i++; continue } // a well-formed pair: not a lone surrogate, and no astral code point is listed
    if (isDangerous(cp) && !(cp === 0x200d && /\p{Extended_Pictographic}/u.test(s.slice(i + 1, i + 3)))) out.push(cp)
  }
  return out
}

t.test('C0 controls show as their Control Pictures, DEL as ␡, C1 as an escape', async t => {
  for (let c = 0; c < 0x20; c++) t.equal(terminalSafe(`a${String.fromCharCode(c)}b`), `a${String.fromCodePoint(0x2400 + c)}b`)
  t.equal(terminalSafe('a\u007fb'), 'a␡b')
  for (let c = 0x80; c <= 0x9f; c++) t.equal(terminalSafe(String.fromCharCode(c)), `\\u{00${c.toString(16)}}`)
})

t.test('the attacks: retitle, clear screen, overwrite a line, forge a line, reorder text', async t => {
  t.equal(terminalSafe('\u001b]0;pwned\u0007'), '␛]0;pwned␇', 'OSC 0 (window title) is inert')
  t.equal(terminalSafe('\u001b[2J\u001b[H'), '␛[2J␛[H', 'CSI clear screen / cursor home is inert')
  t.equal(terminalSafe('\u009b2J'), '\\u{009b}2J', 'the 8-bit CSI too')
  t.equal(terminalSafe('ok\rFAKE'), 'ok␍FAKE', 'CR cannot go back over the line')
  t.equal(terminalSafe('hi\n[2026-01-01 10:00:00] bank: your code is 1234'), 'hi␊[2026-01-01 10:00:00] bank: your code is 1234', 'no line of ours can be forged')
  t.equal(terminalSafe('\u202egnp.exe'), '\\u{202e}gnp.exe', 'right-to-left override shown, not obeyed')
  for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
    t.equal(terminalSafe(`x${String.fromCodePoint(cp)}y`), `x\\u{${cp.toString(16)}}y`, `bidi U+${cp.toString(16)}`)
  }
  for (const cp of [0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0xfeff]) {
    t.equal(terminalSafe(`b${String.fromCodePoint(cp)}ob`), `b\\u{${cp.toString(16)}}ob`, `zero-width U+${cp.toString(16)} made visible`)
  }
  t.equal(terminalSafe('\ud800x'), '\\u{d800}x', 'a lone surrogate')
})

t.test('ordinary text of every script prints unchanged', async t => {
  for (const s of ['Zoë, Ærøskøbing, naïve café', 'Straße', '日本語のテキスト', '李小龍', '한국어', 'שלום עולם', 'مرحبا بالعالم', 'नमस्ते',
    '😀 👍🏽 ❤️', '👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈', '🇫🇷 🏴󠁧󠁢󠁳󠁣󠁴󠁿', 'e\u0301 (combining acute)', 'plain ASCII: <>&"\' \\ ~ {}']) {
    t.equal(terminalSafe(s), s, s)
    t.ok(isTerminalSafe(s))
  }
})

t.test('multiline (the chat screen): line breaks kept as LF, tabs as spaces, the rest as one line', async t => {
  t.equal(terminalSafe('a\r\nb\rc\nd\te', { multiline: true }), 'a\nb\nc\nd  e')
  t.equal(terminalSafe('a\u001b[31m\nb', { multiline: true }), 'a␛[31m\nb')
})

t.test('random text: nothing dangerous survives, the result is stable and safe', async t => {
  const rng = testRng(t, 0x7e47, 'random code points')
  const pools = [[0, 0x20], [0x7f, 0xa0], [0x200a, 0x2070], [0xd7f0, 0xe010], [0xfef0, 0xffff], [0x1f300, 0x1fa00], [0x20, 0x7f], [0xe0000, 0xe0080]]
  // bounded in count, not in time: every string is checked however fast this machine is
  const STRINGS = 3000
  let checked = 0
  for (let n = 0; n < STRINGS; n++) {
    let s = ''
    for (let i = rng.int(20); i >= 0; i--) {
      const [lo, hi] = pools[rng.int(pools.length)]!
      const cp = lo! + rng.int(hi! - lo!)
      s += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp)
    }
    const out = terminalSafe(s)
    if (dangerousIn(out).length > 0) { t.fail(`${JSON.stringify(s)} → ${JSON.stringify(out)}`); break }
    if (terminalSafe(out) !== out || !isTerminalSafe(out)) { t.fail(`not stable: ${JSON.stringify(s)}`); break }
    if (isTerminalSafe(s) !== (out === s)) { t.fail(`isTerminalSafe disagrees: ${JSON.stringify(s)}`); break }
    checked++
  }
  t.equal(checked, STRINGS, `all ${STRINGS} random strings checked`)
})

t.test('JSON for a terminal: the exact value, with nothing raw a terminal would act on', async t => {
  const value = [{ text: 'a\u001b]0;x\u0007\u009b2J\u202eb\u2028c\u200bd\u007f\ud800 日本 👩‍💻', n: 1 }, { name: null }]
  const out = terminalSafeJson(value, 2)
  t.same(JSON.parse(out), value, 'parses back to exactly the same value')
  t.same(dangerousIn(out.replace(/\n/g, '')), [], 'no dangerous code point in the text (indentation newlines aside)')
  t.match(out, /\\u009b2J\\u202eb\\u2028c\\u200bd\\u007f/, 'C1, bidi, separators, zero-width, DEL escaped the JSON way')
  t.match(out, /日本/, 'ordinary text stays readable')
  t.equal(terminalSafeJson({ a: 'plain' }), JSON.stringify({ a: 'plain' }), 'plain data: byte for byte JSON.stringify')
})
