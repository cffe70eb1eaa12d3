// `dmess <args>` run by oclif inside the test process: the command classes of the built binary
// (dist/commands, through oclif.manifest.json), oclif's own argv parsing, BaseCommand's one error
// line and exit code (src/cli/base.ts), stdout and stderr captured, the environment and stdin as
// runCli (./cli.ts) gives a child: for tests of what a command prints and does. A `dmess` process
// costs ~0.3 s of CPU to start node and oclif; here each command after its first costs a few ms.
// A process a command starts (`daemon --detach` starts the daemon with the command's
// process.execArgv: src/daemon/detach.ts) gets none of this process's node flags (the test
// runner's loaders), as from `node bin/run.js`. What needs the command's own process stays with
// runCli: bin/run.js, signals, a terminal, stdin piped by a shell, exit on a hang.
import { AsyncLocalStorage } from 'node:async_hooks'
import { Readable } from 'node:stream'
import type * as Oclif from '@oclif/core'
import type { CliOptions, CliResult } from './cli.js'
import { ROOT } from './cli.js'

interface Capture { stdout: string, stderr: string }

/** The command being run: its writes go to its capture, every other write (tap's) goes through. */
const current = new AsyncLocalStorage<Capture>()
interface Loaded { run: typeof Oclif.run, Config: typeof Oclif.Config }
let oclif: Promise<Loaded> | undefined
/** One command at a time: the environment, exit code, umask, execArgv and stdin are the process's. */
let queue: Promise<unknown> = Promise.resolve()

function capture (stream: NodeJS.WriteStream, key: keyof Capture): void {
  const write = stream.write.bind(stream) as (...a: unknown[]) => boolean
  stream.write = function (chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    const c = current.getStore()
    if (c === undefined) return write(chunk, ...rest)
    c[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    const done = rest.find(x => typeof x === 'function') as (() => void) | undefined
    if (done !== undefined) process.nextTick(done)
    return true
  } as typeof stream.write
}

async function load (): Promise<Loaded> {
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1' // as bin/run.js
  const { run, Config } = await import('@oclif/core')
  capture(process.stdout, 'stdout')
  capture(process.stderr, 'stderr')
  return { run, Config }
}

/** The environment runCli gives its child, applied to this process; returns what puts it back. */
function applyEnv (env: CliOptions['env'] = {}): () => void {
  const saved = new Map<string, string | undefined>()
  const set = (k: string, v: string | undefined): void => {
    if (!saved.has(k)) saved.set(k, process.env[k])
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  // never inherit a passphrase or home unless the test passes one (as runCli)
  if (!('DMESS_PASSPHRASE' in env)) set('DMESS_PASSPHRASE', undefined)
  if (!('DMESS_HOME' in env)) set('DMESS_HOME', undefined)
  for (const [k, v] of Object.entries(env)) set(k, v)
  return () => { for (const [k, v] of saved) { if (v === undefined) delete process.env[k]; else process.env[k] = v } }
}

/** stdin as runCli's child has it (a pipe holding `input`, then closed) and stdout not a terminal. */
function applyStdio (input: string): () => void {
  const stdin = Object.getOwnPropertyDescriptor(process, 'stdin') as PropertyDescriptor
  const fake = Readable.from(input === '' ? [] : [Buffer.from(input)])
  Object.defineProperty(process, 'stdin', { configurable: true, enumerable: true, get: () => fake })
  const tty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY')
  Object.defineProperty(process.stdout, 'isTTY', { configurable: true, writable: true, value: undefined })
  return () => {
    Object.defineProperty(process, 'stdin', stdin)
    if (tty === undefined) delete (process.stdout as { isTTY?: boolean }).isTTY
    else Object.defineProperty(process.stdout, 'isTTY', tty)
  }
}

async function runOnce (args: string[], opts: CliOptions): Promise<CliResult> {
  oclif ??= load()
  const { run, Config } = await oclif
  // a Config of its own, as each process loads one (~2 ms): oclif's help changes the one it shows
  // from (a second `contacts add -h` on the same Config found no such command)
  const config = await Config.load(ROOT)
  const out: Capture = { stdout: '', stderr: '' }
  const exitCode = process.exitCode
  const umask = process.umask(0o077) // what BaseCommand.init sets; this process's is put back
  const restoreEnv = applyEnv(opts.env)
  const restoreStdio = applyStdio(opts.input ?? '')
  const execArgv = process.execArgv
  process.execArgv = [] // `node bin/run.js` has none
  process.exitCode = undefined
  let timer: NodeJS.Timeout | undefined
  try {
    const ms = opts.timeoutMs ?? 30_000
    await Promise.race([
      current.run(out, async () => { await run(args, config) }),
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`dmess ${args.join(' ')} did not finish within ${ms} ms (in-process)`)), ms) })
    ])
    const code = process.exitCode ?? 0
    return { code: Number(code), stdout: out.stdout, stderr: out.stderr }
  } finally {
    clearTimeout(timer)
    process.exitCode = exitCode
    process.execArgv = execArgv
    restoreStdio()
    restoreEnv()
    process.umask(umask)
  }
}

/**
 * runCli's contract (./cli.ts) without the process. An error that escapes BaseCommand's catch and
 * the command_not_found hook (src/cli/not-found-hook.ts) is thrown, not printed: what the binary
 * prints then is runCli's to test.
 */
export async function runCliInProcess (args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const r = queue.then(async () => await runOnce(args, opts))
  queue = r.catch(() => {})
  return await r
}
