// Where `dmess send` takes its text from: the argument, stdin (`-`, or no argument while stdin is
// a pipe or a file), or --message-file. Read here, before the daemon is asked, so a message over
// the limit of one TEXT (64 KiB of UTF-8, `TEXT_MAX_BYTES` in proto-spec/envelope.md) is refused in one line without
// reading more than one byte past the limit, and bytes that are not UTF-8 are refused instead of
// being sent as U+FFFD.
import { open } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { errors } from '../errors.js'
import { TEXT_MAX_BYTES } from '../wire/constants.js'

export interface TextSources {
  /** the positional text; `-` means stdin */
  arg: string | undefined
  /** --message-file */
  file: string | undefined
  stdin: Readable & { isTTY?: boolean }
}

/** The message to send, from exactly one source; throws BAD_ARGUMENT (one line) otherwise. */
export async function messageText (s: TextSources): Promise<string> {
  if (s.file !== undefined && s.arg !== undefined) throw errors.BAD_ARGUMENT('give the message as an argument or with --message-file, not both')
  if (s.file !== undefined) return decode(await readFileCapped(s.file), `--message-file ${s.file}`)
  if (s.arg === '-' || (s.arg === undefined && s.stdin.isTTY !== true)) return decode(await readCapped(s.stdin), 'stdin')
  if (s.arg === undefined) throw errors.BAD_ARGUMENT('no message: give it as an argument, with --message-file <path>, or on stdin (`-`)')
  if (Buffer.byteLength(s.arg) > TEXT_MAX_BYTES) throw tooLong('the argument')
  return s.arg
}

function tooLong (from: string): Error {
  return errors.BAD_ARGUMENT(`the message from ${from} is over ${TEXT_MAX_BYTES / 1024} KiB (${TEXT_MAX_BYTES} bytes), the limit of one message`)
}

/** At most TEXT_MAX_BYTES + 1 bytes: enough to know the text is too long. */
async function readCapped (stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  let n = 0
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string)
    parts.push(b)
    n += b.length
    if (n > TEXT_MAX_BYTES + 1) break // one newline more than the limit may still be stripped below
  }
  return Buffer.concat(parts, n)
}

async function readFileCapped (path: string): Promise<Buffer> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw errors.BAD_ARGUMENT(`cannot read the message file ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message)}`)
  }
  try {
    if ((await fh.stat()).isDirectory()) throw errors.BAD_ARGUMENT(`cannot read the message file ${path}: it is a directory`)
    return await readCapped(fh.createReadStream({ autoClose: false }))
  } finally {
    await fh.close()
  }
}

function decode (raw: Buffer, from: string): string {
  // `echo hi | dmess send bob` and files written by editors end in one newline that is not part of the message
  let b = raw
  if (b.at(-1) === 0x0a) b = b.subarray(0, b.at(-2) === 0x0d ? -2 : -1)
  if (b.length > TEXT_MAX_BYTES) throw tooLong(from)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b)
  } catch {
    throw errors.BAD_ARGUMENT(`the message from ${from} is not UTF-8 text`)
  }
  if (text.length === 0) throw errors.BAD_ARGUMENT(`the message from ${from} is empty`)
  return text
}
