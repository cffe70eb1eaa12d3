// Running a daemon in this process: settings from flags over config, unlock, start, signals,
// and a clean exit. `dmess daemon` (foreground) and the detached child both come through here.
import type { LevelWithSilent } from 'pino'
import { secureHome, type HomePaths } from '../config/home.js'
import { loadConfig } from '../config/config.js'
import type { Config, NotifyMode } from '../config/schema.js'
import { homedir } from 'node:os'
import { resolve } from 'node:path'
import { defaultDownloadDir } from '../files/disk.js'
import type { FileSettings } from './daemon.js'
import { errors } from '../errors.js'
import { assertInitialised, lock, unlock } from '../app/profile.js'
import { Daemon, alreadyRunning, type DaemonOptions, type HostPort, type StaticPeer } from './daemon.js'
import { parseFingerprint } from '../crypto/fingerprint.js'
import { IpcClient, probeSocket } from './ipc-client.js'
import { waitForExit } from './lock.js'
import { createLogger, LOG_FORMATS, type LogFormat } from './log.js'
import type { LogRotation } from './log-rotate.js'
import { daemonPaths } from './paths.js'
import { shippedBootstrap } from './bootstrap-list.js'
import { formatHostPort, parseHostPort } from '../io/address.js'
import type { DaemonStatus } from './rpc-methods.js'

export interface DaemonSettings {
  paths: HomePaths
  host: string
  port: number
  mdns: boolean
  /** PCP/NAT-PMP/UPnP IGD port mapping on the home router (on unless --no-portmap) */
  portmap: boolean
  peers: StaticPeer[]
  bootstrap: HostPort[]
  logLevel: LevelWithSilent
  /** where received files go, what is accepted unasked, how long ended transfers are kept (config downloadDir, autoAcceptBytes, autoAcceptPendingBytes, transfersKeepDays, transfersKeep; proto-spec/files.md §5) */
  files: FileSettings
  /** desktop notifications for messages while no chat is open (config notify; notify.ts) */
  notify: NotifyMode
  /** undefined: readable lines when the log goes to a terminal, else JSON (log.ts) */
  logFormat?: LogFormat
  /** set for a detached daemon, whose stderr is <home>/daemon.log: rotated by size */
  logFile?: LogRotation
  /** run as the unlock agent (`dmess unlock`): offline, stopping by itself after this long (daemon.ts) */
  agent?: { lockAfterMs: number }
}

export interface DaemonFlags {
  'log-format'?: string
  host?: string
  port?: number
  mdns?: boolean
  portmap?: boolean
  peer?: string[]
  bootstrap?: string[]
}

/** After a stop, a process that still has open handles is ended anyway (a leak must not keep a stopped daemon alive). */
const EXIT_GRACE_MS = 3000

/**
 * A --peer: "host:port", or "<fingerprint>@host:port". Only the second is answered by a dmess
 * node (proto-spec/wire.md §4.1.1); the first reaches a peer only if it dials us too.
 */
export function parsePeer (text: string): StaticPeer {
  const at = text.lastIndexOf('@')
  if (at < 0) return parseHostPort(text, '--peer')
  return { ...parseHostPort(text.slice(at + 1), '--peer'), fingerprint: parseFingerprint(text.slice(0, at)) }
}

export function formatPeer (p: StaticPeer): string {
  return p.fingerprint === undefined ? formatHostPort(p) : `${p.fingerprint}@${formatHostPort(p)}`
}

/** Flags win over config.yaml; --bootstrap replaces the configured list rather than adding to it. */
export async function resolveSettings (paths: HomePaths, flags: DaemonFlags): Promise<DaemonSettings> {
  const { config } = await loadConfig(paths.config)
  const port = flags.port ?? config.port
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw errors.BAD_ARGUMENT(`--port must be 0-65535, got ${port}`)
  // where the list came from names a bad entry: the user may never have passed --bootstrap
  let bootstrap = flags.bootstrap !== undefined && flags.bootstrap.length > 0 ? flags.bootstrap : config.bootstrap
  let source = bootstrap === flags.bootstrap ? '--bootstrap' : 'config "bootstrap"'
  if (bootstrap.length === 0) { bootstrap = await shippedBootstrap(); source = 'bootstrap/nodes.json' } // the last fallback
  return {
    paths,
    host: flags.host ?? config.host,
    port,
    mdns: flags.mdns ?? config.mdns,
    portmap: flags.portmap ?? true,
    peers: (flags.peer ?? []).map(parsePeer),
    bootstrap: bootstrap.map(b => parseHostPort(b, source)),
    logLevel: config.logLevel as LevelWithSilent,
    files: fileSettings(config),
    notify: config.notify,
    ...(flags['log-format'] === undefined ? {} : { logFormat: logFormat(flags['log-format']) })
  }
}

/**
 * The file-transfer settings. DMESS_TEST_CORRUPT_CHUNK (a chunk index the sender corrupts once,
 * proto-spec/files.md §6) is honoured only under the test runner (TAP=1, which tap's runner and
 * scripts/suite-run.mjs set for every test process and what it spawns), never in a user's daemon.
 */
export function fileSettings (config: Pick<Config, 'downloadDir' | 'autoAcceptBytes' | 'autoAcceptPendingBytes' | 'transfersKeepDays' | 'transfersKeep'>, env: NodeJS.ProcessEnv = process.env): FileSettings {
  const dir = config.downloadDir === '' ? defaultDownloadDir(env) : resolve(config.downloadDir.replace(/^~(?=$|\/)/, homedir()))
  const out: FileSettings = {
    downloadDir: dir,
    autoAcceptBytes: config.autoAcceptBytes,
    autoAcceptPendingBytes: config.autoAcceptPendingBytes,
    keepEndedMs: config.transfersKeepDays * 86_400_000,
    keepEnded: config.transfersKeep
  }
  const corrupt = env.DMESS_TEST_CORRUPT_CHUNK
  if (env.TAP === '1' && corrupt !== undefined && /^\d+$/.test(corrupt)) out.corruptChunk = Number(corrupt)
  return out
}

function logFormat (text: string): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(text)) throw errors.BAD_ARGUMENT(`--log-format must be ${LOG_FORMATS.join(' or ')}, got ${JSON.stringify(text)}`)
  return text as LogFormat
}

/** How long a starting daemon waits for the unlock agent it replaces to exit. */
export const AGENT_STOP_WAIT_MS = 30_000

/**
 * Refuses early (before a passphrase prompt) when a daemon already answers on this home's socket.
 * With `allowAgent` (starting a daemon) an unlock agent there is no obstacle: the daemon replaces
 * it once its own passphrase is right (replaceAgent); the agent's status is returned.
 */
export async function assertNoDaemon (paths: HomePaths, opts: { allowAgent?: boolean } = {}): Promise<DaemonStatus | undefined> {
  const files = daemonPaths(paths)
  if (await probeSocket(files.socket) !== 'live') return undefined
  const st = await liveStatus(files.socket)
  if (opts.allowAgent === true && st?.mode === 'agent') return st
  throw await alreadyRunning(paths.home, files, st)
}

/** The status of whatever answers on the socket; undefined if it went away meanwhile. */
async function liveStatus (socket: string): Promise<DaemonStatus | undefined> {
  let client: IpcClient
  try {
    client = await IpcClient.connect(socket)
  } catch {
    return undefined
  }
  try {
    return await client.call('status', {}, STATUS_WAIT_MS)
  } catch {
    return undefined
  } finally {
    client.close()
  }
}

const STATUS_WAIT_MS = 5000

/**
 * A daemon going online in place of the unlock agent (ipc.md §14): after its own unlock succeeded
 * (a wrong passphrase leaves the agent running), it asks the agent to stop and waits for its
 * process to exit, which releases the store. Anything else on the socket is DAEMON_RUNNING.
 * Returns the agent's PID, or undefined when none was running.
 */
export async function replaceAgent (paths: HomePaths): Promise<number | undefined> {
  const files = daemonPaths(paths)
  if (await probeSocket(files.socket) !== 'live') return undefined
  let client: IpcClient
  try {
    client = await IpcClient.connect(files.socket)
  } catch {
    return undefined // it stopped meanwhile
  }
  let pid: number
  try {
    const st = await client.call('status', {}, STATUS_WAIT_MS)
    if (st.mode !== 'agent') throw await alreadyRunning(paths.home, files, st)
    pid = (await client.call('stop', {})).pid
  } finally {
    client.close()
  }
  if (!await waitForExit(pid, AGENT_STOP_WAIT_MS)) throw errors.DAEMON_FAILED(`the unlock agent (pid ${pid}) is still running ${AGENT_STOP_WAIT_MS / 1000} s after it was asked to stop`)
  return pid
}

export interface RunHooks {
  /** called once every component runs and the socket answers */
  onReady?: (status: DaemonStatus) => void
  extra?: Pick<DaemonOptions, 'extraComponents' | 'ipcLimits'>
}

/**
 * Unlocks, starts, and runs until SIGINT/SIGTERM or the IPC `stop` method. A wrong passphrase
 * fails before anything is created. Resolves after a clean stop.
 */
export async function runDaemon (s: DaemonSettings, passphrase: string, hooks: RunHooks = {}): Promise<void> {
  await assertInitialised(s.paths)
  // Everything the daemon creates (LevelDB's files, the log, the socket) is the user's alone: the
  // home is 0700, but a file's own mode should not depend on that (a later chmod, a backup copy).
  process.umask(0o077)
  await secureHome(s.paths)
  const unlocked = await unlock(s.paths, passphrase)
  let daemon: Daemon
  try {
    const log = createLogger({ level: s.logLevel, ...(s.logFormat === undefined ? {} : { format: s.logFormat }), ...(s.logFile === undefined ? {} : { rotate: s.logFile }) })
    // going online in place of an unlock agent: only now that this passphrase proved right
    if (s.agent === undefined) {
      const agentPid = await replaceAgent(s.paths)
      if (agentPid !== undefined) log.info({ pid: agentPid }, 'stopped the unlock agent; the daemon takes over')
    }
    daemon = new Daemon({ ...s, log, ...hooks.extra }, unlocked)
  } catch (err) {
    lock(unlocked)
    throw err
  }
  const detach = installHandlers(daemon)
  try {
    const status = await daemon.start()
    hooks.onReady?.(status)
    await daemon.stopped
  } finally {
    detach()
  }
  setTimeout(() => {
    daemon.opts.log.warn('open handles kept the process alive after stop; exiting')
    process.exit(process.exitCode ?? 0)
  }, EXIT_GRACE_MS).unref()
}

/** First SIGINT/SIGTERM: orderly stop. A second one: exit at once (the next start cleans up). */
function installHandlers (daemon: Daemon): () => void {
  let signals = 0
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      daemon.opts.log.warn({ signal: sig }, 'second signal: exiting without a clean stop')
      process.exit(1)
    }
    daemon.requestStop(sig)
  }
  const onFatal = (err: unknown): void => {
    daemon.opts.log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'uncaught error; stopping')
    process.exitCode = 1
    daemon.requestStop('uncaught error')
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('uncaughtException', onFatal)
  process.on('unhandledRejection', onFatal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('uncaughtException', onFatal)
    process.off('unhandledRejection', onFatal)
  }
}
