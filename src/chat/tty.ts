// Preparing the process for an interactive ink app. Kept free of ink imports: it must run
// before ink is first loaded.

/**
 * ink decides once, when it is imported, whether it runs under CI (`is-in-ci` reads $CI and
 * $CONTINUOUS_INTEGRATION) and then draws nothing until it exits. A chat on a real terminal is
 * interactive whatever the environment says, so those variables are dropped from this process
 * (only) before ink is loaded. Returns whether anything was changed.
 */
export function forceInteractiveRendering (stdout: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (stdout.isTTY !== true) return false
  let changed = false
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) {
    if (k in env) { delete env[k]; changed = true }
  }
  return changed
}

/** The part of a terminal's stdin (tty.ReadStream) that raw mode is switched on. */
export interface RawModeInput {
  isRaw?: boolean
  setRawMode: (mode: boolean) => unknown
}

/**
 * Puts the terminal in raw mode now and keeps it there until the returned function is called,
 * which gives back the mode it was in. Call it before anything is drawn.
 *
 * ink switches raw mode on only in a React effect, which runs after its first frame is already
 * on the screen (node_modules/ink/build/hooks/use-input.js), and off whenever an app unmounts
 * (the conversation picker, before the chat opens). A key that arrives in either gap finds the
 * terminal cooked: it is echoed, and Enter (CR) becomes LF (termios ICRNL, applied as the key is
 * received: POSIX.1-2017 XBD §11.2.2) — read once raw mode is on, that LF is Ctrl-J, a line break
 * in the message, and nothing is sent. Someone typing as soon as the screen appears hits it.
 * While held, ink's own calls change nothing: the terminal stays raw from before the first frame
 * to after the last.
 */
export function holdRawMode (stdin: RawModeInput): () => void {
  const was = stdin.isRaw === true
  const own = Object.getOwnPropertyDescriptor(stdin, 'setRawMode')
  const set = stdin.setRawMode.bind(stdin)
  set(true)
  stdin.setRawMode = () => stdin
  let held = true
  return () => {
    if (!held) return
    held = false
    if (own === undefined) delete (stdin as Partial<RawModeInput>).setRawMode
    else Object.defineProperty(stdin, 'setRawMode', own)
    set(was)
  }
}

const LF = 0x0a
const CR = 0x0d

/** Cooked type-ahead as raw keys: each LF was an Enter that ICRNL turned into LF (see holdRawMode). */
export function typedAheadAsKeys (bytes: Buffer): Buffer {
  const out = Buffer.from(bytes)
  for (let i = 0; i < out.length; i++) if (out[i] === LF) out[i] = CR // never inside a UTF-8 sequence
  return out
}

/**
 * Keys typed before anything is on the screen, taken as the keys they were meant as. Until
 * holdRawMode the terminal was cooked, so what was typed while `dmess chat` started is held by
 * the terminal with every Enter already turned into LF, which read in raw mode is Ctrl-J. Called
 * after holdRawMode and before the first frame, this reads what the terminal holds, turns each LF
 * back into Enter (typedAheadAsKeys) and puts it back at the front of the stream, where ink reads
 * it first. Nothing is drawn until it is done, so every key it reads was typed blind: only a
 * Ctrl-J pressed in the moment after raw mode came on would be taken for Enter.
 */
export async function takeTypeAhead (stdin: NodeJS.ReadableStream): Promise<void> {
  const chunks: Buffer[] = []
  const grab = (): void => {
    let chunk: string | Buffer | null
    while ((chunk = stdin.read()) !== null) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  }
  stdin.on('readable', grab)
  // The read starts in this turn of the event loop (libuv adds the descriptor at its next poll);
  // bytes the terminal already holds are read in the next turn's poll phase, before its
  // setImmediate callbacks: two turns see them read.
  for (let turn = 0; turn < 2; turn++) await new Promise(resolve => setImmediate(resolve))
  stdin.off('readable', grab)
  if (chunks.length > 0) stdin.unshift(typedAheadAsKeys(Buffer.concat(chunks)))
}
