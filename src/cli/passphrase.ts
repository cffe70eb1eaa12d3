// Where a passphrase comes from, in order: --passphrase-file, $DMESS_PASSPHRASE, an interactive
// prompt without echo. With none of those available we fail with one line rather than hang.
import { readFile } from 'node:fs/promises'
import { Flags } from '@oclif/core'
import { errors, isDmessError } from '../errors.js'

export const passphraseFlags = {
  'passphrase-file': Flags.string({
    description: 'read the passphrase from the first line of this file (else $DMESS_PASSPHRASE, else a prompt)'
  })
}

async function fromFile (path: string): Promise<string> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw errors.NO_PASSPHRASE(`cannot read passphrase file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  const first = text.split(/\r?\n/)[0] ?? ''
  // an empty file is a mistake, never a passphrase (new ones may not be empty): say so, rather
  // than "wrong passphrase" for the keys
  if (first === '') throw errors.NO_PASSPHRASE(`the passphrase file ${path} is empty (its first line is the passphrase)`)
  return first
}

/** Reads a line from the terminal with echo off; without a terminal, says where else it may come from. */
async function promptHidden (question: string, sources: { what: string, envVar: string, flag: string, hint?: string }): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) throw errors.NO_PASSPHRASE(`no ${sources.what}: set ${sources.envVar}, pass ${sources.flag}, or run in a terminal${sources.hint === undefined ? '' : `; ${sources.hint}`}`)
  stdin.setRawMode(true) // echo off before the question shows: what is typed at once is not echoed
  process.stderr.write(question)
  stdin.resume()
  stdin.setEncoding('utf8')
  return await new Promise<string>((resolve, reject) => {
    let value = ''
    const done = (err?: Error): void => {
      stdin.setRawMode(false)
      stdin.pause()
      stdin.off('data', onData)
      process.stderr.write('\n')
      if (err) reject(err); else resolve(value)
    }
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(errors.NO_PASSPHRASE('cancelled'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.on('data', onData)
  })
}

export interface PassphraseSources {
  envVar?: string
  /** the flag that names a file, as the user types it (for messages) */
  flag?: string
  prompt?: string
  /** what is asked for, in messages: "passphrase", "new passphrase" */
  what?: string
  /** one more way out, added to the message when there is no passphrase and no terminal */
  hint?: string
}

/**
 * The fewest characters a new passphrase may have. Argon2id slows each guess to ~0.3 s on this
 * kind of machine, but a 1- to 7-character passphrase falls to a dictionary of common ones
 * anyway; a few words are best (proto-spec/keystore.md).
 */
export const MIN_PASSPHRASE_CHARS = 8

function sourcesOf (opts: PassphraseSources, what: string): { what: string, envVar: string, flag: string, hint?: string } {
  return { what: opts.what ?? what, envVar: opts.envVar ?? 'DMESS_PASSPHRASE', flag: opts.flag ?? '--passphrase-file', hint: opts.hint }
}

export async function getPassphrase (flags: { 'passphrase-file'?: string }, opts: PassphraseSources = {}): Promise<string> {
  const src = sourcesOf(opts, 'passphrase')
  if (flags['passphrase-file']) return await fromFile(flags['passphrase-file'])
  const env = process.env[src.envVar]
  if (env === '') throw errors.NO_PASSPHRASE(`${src.envVar} is set but empty`)
  if (env !== undefined) return env
  return await promptHidden(opts.prompt ?? 'Passphrase: ', src)
}

/** How many times a terminal prompt asks for the passphrase before giving up (as sudo and ssh do). */
export const PROMPT_TRIES = 3

/** The terminal seam of `withPassphrase`: tests drive it without a terminal. */
export interface PromptIo {
  isTTY: () => boolean
  prompt: (question: string) => Promise<string>
  say: (line: string) => void
}

const terminal: PromptIo = {
  isTTY: () => process.stdin.isTTY === true,
  prompt: async question => await promptHidden(question, sourcesOf({}, 'passphrase')),
  say: line => { process.stderr.write(line + '\n') }
}

/**
 * Gets the passphrase and runs `use` with it. At a terminal prompt a wrong passphrase
 * (`use` threw WRONG_PASSPHRASE) is asked for again, PROMPT_TRIES times in all; from
 * --passphrase-file or $DMESS_PASSPHRASE there is nobody to ask again, so it fails at once with
 * the one-line error. `use` should throw WRONG_PASSPHRASE before it does anything else (unlock first).
 */
export async function withPassphrase<T> (
  flags: { 'passphrase-file'?: string },
  use: (passphrase: string) => Promise<T>,
  opts: PassphraseSources = {},
  io: PromptIo = terminal
): Promise<T> {
  const src = sourcesOf(opts, 'passphrase')
  if (flags['passphrase-file'] !== undefined || process.env[src.envVar] !== undefined || !io.isTTY()) {
    return await use(await getPassphrase(flags, opts))
  }
  for (let tries = 1; ; tries++) {
    const passphrase = await io.prompt(opts.prompt ?? 'Passphrase: ')
    try {
      return await use(passphrase)
    } catch (err) {
      if (!isDmessError(err) || err.code !== 'WRONG_PASSPHRASE') throw err
      if (tries >= PROMPT_TRIES) throw errors.WRONG_PASSPHRASE(`wrong passphrase (${PROMPT_TRIES} tries)`)
      io.say(`Wrong passphrase; try again (${PROMPT_TRIES - tries} ${PROMPT_TRIES - tries === 1 ? 'try' : 'tries'} left).`)
    }
  }
}

/** For a new passphrase: non-interactive sources are taken as given; a prompt asks twice. */
export async function getNewPassphrase (flags: { 'passphrase-file'?: string }, opts: PassphraseSources = {}): Promise<string> {
  const src = sourcesOf(opts, 'new passphrase')
  let pass: string
  const env = process.env[src.envVar]
  if (env === '') throw errors.NO_PASSPHRASE(`the passphrase must not be empty (${src.envVar} is set but empty)`)
  if (flags['passphrase-file'] || env !== undefined) {
    pass = await getPassphrase(flags, { ...opts, what: src.what })
  } else {
    pass = await promptHidden(opts.prompt ?? 'New passphrase: ', src)
    const again = await promptHidden('Repeat passphrase: ', src)
    if (again !== pass) throw errors.NO_PASSPHRASE('the two passphrases differ; nothing was changed')
  }
  if (pass.length === 0) throw errors.NO_PASSPHRASE('the passphrase must not be empty')
  if ([...pass].length < MIN_PASSPHRASE_CHARS) throw errors.NO_PASSPHRASE(`the passphrase has ${[...pass].length} characters; use at least ${MIN_PASSPHRASE_CHARS} (a few words are best); nothing was changed`)
  return pass
}
