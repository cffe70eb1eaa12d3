// Where a passphrase comes from, in order: --passphrase-file, $DMESS_PASSPHRASE, an interactive
// prompt without echo. With none of those available we fail with one line rather than hang.
import { readFile } from 'node:fs/promises'
import { Flags } from '@oclif/core'
import { errors } from '../errors.js'

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
  return text.split(/\r?\n/)[0] ?? ''
}

/** Reads a line from the terminal with echo off. */
async function promptHidden (question: string): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) throw errors.NO_PASSPHRASE('no passphrase: set DMESS_PASSPHRASE, pass --passphrase-file, or run in a terminal')
  process.stderr.write(question)
  stdin.setRawMode(true)
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

export interface PassphraseSources { file?: string, envVar?: string, prompt?: string }

export async function getPassphrase (flags: { 'passphrase-file'?: string }, opts: PassphraseSources = {}): Promise<string> {
  if (flags['passphrase-file']) return await fromFile(flags['passphrase-file'])
  const env = process.env[opts.envVar ?? 'DMESS_PASSPHRASE']
  if (env !== undefined) return env
  return await promptHidden(opts.prompt ?? 'Passphrase: ')
}

/** For a new passphrase: non-interactive sources are taken as given; a prompt asks twice. */
export async function getNewPassphrase (flags: { 'passphrase-file'?: string }, opts: PassphraseSources = {}): Promise<string> {
  let pass: string
  if (flags['passphrase-file'] || process.env[opts.envVar ?? 'DMESS_PASSPHRASE'] !== undefined) {
    pass = await getPassphrase(flags, opts)
  } else {
    pass = await promptHidden(opts.prompt ?? 'New passphrase: ')
    const again = await promptHidden('Repeat passphrase: ')
    if (again !== pass) throw errors.NO_PASSPHRASE('the two passphrases differ; nothing was changed')
  }
  if (pass.length === 0) throw errors.NO_PASSPHRASE('the passphrase must not be empty')
  return pass
}
