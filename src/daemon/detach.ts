// `dmess daemon --detach` (proto-spec/ipc.md §Detached start). The parent asks for the passphrase
// (it has the terminal), spawns the daemon's own entry point (detached-main.ts: no CLI framework)
// detached, with stdout/stderr on <home>/daemon.log and a Node IPC channel, hands the passphrase over that channel (never argv or the environment), and waits
// for "ready" or a failure. It then checks the daemon's socket answers `status`, and exits.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { DmessError, errors, isDmessError } from '../errors.js'
import { IpcClient } from './ipc-client.js'
import { isProcessAlive, waitForExit } from './lock.js'
import { daemonPaths } from './paths.js'
import type { DaemonStatus } from './rpc-methods.js'
import type { HomePaths } from '../config/home.js'
import { loadConfig } from '../config/config.js'
import { formatPeer, resolveSettings, runDaemon, type DaemonFlags, type DaemonSettings } from './run.js'
import { formatHostPort } from '../io/address.js'

/** Unlocking (Argon2id) and binding take well under a second; this allows for a loaded machine. */
export const DETACH_READY_TIMEOUT_MS = 60_000
/** The child waits this long for the passphrase before giving up. */
export const PASSPHRASE_WAIT_MS = 30_000

type ChildMessage =
  | { type: 'ready', pid: number }
  | { type: 'error', code: string, message: string, exitCode: number }

export interface DetachOptions {
  paths: HomePaths
  /** the child's arguments: childArgs(settings) */
  args: string[]
  passphrase: string
  timeoutMs?: number
}

/**
 * The child's entry point. Built: dist/daemon.cjs, the whole daemon as one CommonJS file
 * (scripts/bundle.ts; docs/performance.md §7: 4.5 MiB less resident once loaded, ~5 MiB
 * less after a burst of messages), found upward from this module (dist/src/daemon/ when tsc's
 * output runs, dist/commands/ when the bundled command does), or, if only tsc ran,
 * detached-main.js next to this module. Through a TypeScript loader (which the child inherits
 * through execArgv): detached-main.ts.
 */
export function childEntry (here = fileURLToPath(import.meta.url)): string {
  const ext = extname(here)
  if (ext === '.js') {
    let dir = dirname(here)
    for (let i = 0; i < 3; i++) {
      const bundled = join(dir, 'daemon.cjs')
      if (existsSync(bundled)) return bundled
      dir = dirname(dir)
    }
  }
  return join(dirname(here), `detached-main${ext}`)
}

/**
 * V8 flags for the long-running daemon. A young generation capped at 2 MiB per semi-space
 * (V8's default cap here is 16): under a burst of messages V8 grows it to the cap and never gives
 * it back, which left the daemon ~20 MiB larger for good; measured with `bench messaging`
 * (2,000 messages): 107-110 -> 85 MiB after the load, 70-74 -> 66 MiB idle, with the same
 * throughput and CPU per message (1 MiB cost CPU, 4 MiB kept 3 MiB more).
 */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2']

/**
 * glibc malloc settings for the long-running daemon (mallopt(3), read at process start; a value
 * the user set wins). Buffers of 40 KiB and more (large reassembled messages, 64 KiB datagram
 * slabs, sealed request files) come from mmap and go back to the system when freed: by default
 * glibc raises that threshold to the largest block ever freed, after which such buffers are
 * carved from the heap and a burst of them stays resident for good. Measured with
 * test/attacks/held-flood.test.ts (100 strangers flooding 60 KB texts): peak RSS 158–164 -> 137 MiB
 * with a fixed threshold. It was 32 KiB; 40 KiB keeps a file transfer's one-chunk buffers (a 32 KiB
 * chunk's message, its ~33 KB datagram decrypted) out of mmap, each of which cost a mapping and
 * its page faults per chunk: 200 MiB on loopback, `perf stat`, receiver 0.67 -> 0.47 ms and
 * sender 0.70 -> 0.41 ms of CPU per chunk, mmap calls per chunk 2 -> 0.02 and 4.3 -> 0.02,
 * held-flood peaks 116–135 MiB (144 in a run at 32 KiB; docs/performance.md §10.2). Two arenas: the thread pool's
 * threads (LevelDB, fs) would otherwise each keep an arena of their own.
 */
export const DAEMON_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '40960', MALLOC_ARENA_MAX: '2' } as const

/** The child's command line: the settings the parent resolved, so both read config only once. */
export function childArgs (s: DaemonSettings): string[] {
  const args = ['--home', s.paths.home, '--host', s.host, '--port', String(s.port), s.mdns ? '--mdns' : '--no-mdns', ...(s.portmap ? [] : ['--no-portmap'])]
  for (const p of s.peers) args.push('--peer', formatPeer(p))
  for (const b of s.bootstrap) args.push('--bootstrap', formatHostPort(b))
  return args
}

/** The unlock agent's command line (ipc.md §14): it has no network settings. */
export function agentChildArgs (paths: HomePaths, lockAfterMs: number): string[] {
  return ['--home', paths.home, '--agent-ms', String(lockAfterMs)]
}

/** childArgs or agentChildArgs, read back in the child. Throws BAD_ARGUMENT. */
export function parseChildArgs (argv: string[]): { home: string, flags: DaemonFlags, agent?: { lockAfterMs: number } } {
  let values
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        home: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        mdns: { type: 'boolean' },
        'no-mdns': { type: 'boolean' },
        'no-portmap': { type: 'boolean' },
        peer: { type: 'string', multiple: true },
        bootstrap: { type: 'string', multiple: true },
        'agent-ms': { type: 'string' }
      }
    }))
  } catch (err) {
    throw errors.BAD_ARGUMENT(`detached daemon: ${(err as Error).message}`)
  }
  if (values.home === undefined) throw errors.BAD_ARGUMENT('detached daemon: --home is required')
  const port = values.port === undefined ? undefined : Number(values.port)
  const mdns = values.mdns === true ? true : values['no-mdns'] === true ? false : undefined
  const portmap = values['no-portmap'] === true ? false : undefined
  const flags: DaemonFlags = { host: values.host, port, mdns, portmap, peer: values.peer, bootstrap: values.bootstrap }
  if (values['agent-ms'] === undefined) return { home: values.home, flags }
  const ms = Number(values['agent-ms'])
  if (!Number.isSafeInteger(ms) || ms <= 0) throw errors.BAD_ARGUMENT(`detached daemon: --agent-ms must be a positive integer, got ${values['agent-ms']}`)
  return { home: values.home, flags, agent: { lockAfterMs: ms } }
}

/** Parent side. Returns the running daemon's status, or throws the child's error as it was raised. */
export async function startDetached (opts: DetachOptions): Promise<DaemonStatus> {
  const files = daemonPaths(opts.paths)
  const logFd = openSync(files.log, 'a', 0o600)
  const env: NodeJS.ProcessEnv = { ...DAEMON_MALLOC_ENV, ...process.env }
  delete env.DMESS_PASSPHRASE // the child gets it over the channel; its environment outlives this start
  let child: ChildProcess
  try {
    child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...process.execArgv, childEntry(), ...opts.args], { // a flag node was started with wins, as the user's malloc settings do
      detached: true, // own session: a closed terminal or Ctrl-C there does not reach it
      stdio: ['ignore', logFd, logFd, 'ipc'],
      env
    })
  } finally {
    closeSync(logFd)
  }
  try {
    await waitReady(child, opts, files.log)
  } catch (err) {
    await reap(child)
    throw err
  }
  child.disconnect()
  child.unref()
  const client = await IpcClient.connect(files.socket)
  try {
    return await client.call('status', {})
  } finally {
    client.close()
  }
}

async function waitReady (child: ChildProcess, opts: DetachOptions, logPath: string): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? DETACH_READY_TIMEOUT_MS
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(errors.DAEMON_FAILED(`the daemon did not become ready within ${timeoutMs / 1000} s; see ${logPath}`)), timeoutMs)
    const done = (err?: Error): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (err) reject(err); else resolve()
    }
    const onMessage = (m: ChildMessage): void => {
      if (m.type === 'ready') done()
      else if (m.type === 'error') done(new DmessError(m.code, m.message, m.exitCode))
    }
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      done(errors.DAEMON_FAILED(`the daemon exited (${signal ?? `code ${code}`}) before it was ready; see ${logPath}`))
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.once('error', err => done(errors.DAEMON_FAILED(`cannot start the daemon: ${err.message}`)))
    child.send({ type: 'passphrase', passphrase: opts.passphrase })
  })
}

/** After a failed start the child exits by itself; one that hangs is ended (it is ours). */
async function reap (child: ChildProcess): Promise<void> {
  const pid = child.pid
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  if (await waitForExit(pid, 5000)) return
  if (isProcessAlive(pid)) child.kill('SIGKILL')
}

// ---- child side ----

/** Whether this process was started by startDetached (it has the parent's channel). */
export function hasParentChannel (): boolean {
  return typeof process.send === 'function' && process.connected
}

/** The detached process: passphrase from the parent, run, report ready or the failure. */
export async function runAsChild (paths: HomePaths, flags: DaemonFlags, agent?: { lockAfterMs: number }): Promise<void> {
  try {
    const { config } = await loadConfig(paths.config)
    const settings: DaemonSettings = { ...await resolveSettings(paths, flags), logFile: { path: daemonPaths(paths).log, maxBytes: config.logMaxBytes, keep: config.logKeep }, ...(agent === undefined ? {} : { agent }) }
    const passphrase = await receivePassphrase()
    await runDaemon(settings, passphrase, { onReady: () => { reportReady().catch(() => {}) } })
  } catch (err) {
    await reportFailure(err)
    throw err
  }
}

async function receivePassphrase (timeoutMs = PASSPHRASE_WAIT_MS): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(errors.NO_PASSPHRASE('the starting process sent no passphrase')) }, timeoutMs)
    const onMessage = (m: unknown): void => {
      const msg = m as { type?: unknown, passphrase?: unknown }
      if (msg?.type !== 'passphrase' || typeof msg.passphrase !== 'string') return
      cleanup()
      resolve(msg.passphrase)
    }
    const onDisconnect = (): void => { cleanup(); reject(errors.NO_PASSPHRASE('the starting process went away before sending the passphrase')) }
    const cleanup = (): void => {
      clearTimeout(timer)
      process.off('message', onMessage)
      process.off('disconnect', onDisconnect)
    }
    process.on('message', onMessage)
    process.once('disconnect', onDisconnect)
  })
}

async function reportReady (): Promise<void> {
  await send({ type: 'ready', pid: process.pid })
}

export async function reportFailure (err: unknown): Promise<void> {
  const e = isDmessError(err) ? err : errors.DAEMON_FAILED((err as Error)?.message ?? String(err))
  await send({ type: 'error', code: e.code, message: e.message, exitCode: e.exitCode })
}

/** Sends one message and closes the channel once it is written: the parent then lets go. */
async function send (m: ChildMessage): Promise<void> {
  if (typeof process.send !== 'function' || !process.connected) return
  await new Promise<void>(resolve => process.send?.(m, undefined, {}, () => resolve()))
  if (process.connected) process.disconnect()
}
