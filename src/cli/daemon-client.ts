// What commands need from a daemon: find one for a home, require one, ask its status, stop it.
// The socket is the only way in: it is 0600 in a 0700 home, so reaching it means being the user
// (like ssh-agent), and commands that go through it need no passphrase.
import type { HomePaths } from '../config/home.js'
import { errors, isDmessError } from '../errors.js'
import { IpcClient } from '../daemon/ipc-client.js'
import { waitForExit } from '../daemon/lock.js'
import { daemonPaths } from '../daemon/paths.js'
import type { DaemonStatus } from '../daemon/rpc-methods.js'
import { contactLabel, type ContactJson } from '../app/contact-json.js'

/** How long `dmess stop` waits for the daemon's process to exit. */
export const STOP_WAIT_MS = 30_000
/** A daemon that accepts but does not answer `status` this quickly is reported as hung. */
export const STATUS_TIMEOUT_MS = 5000

/** A connected client when a daemon answers on this home's socket, else undefined. */
export async function findDaemon (paths: HomePaths): Promise<IpcClient | undefined> {
  try {
    return await IpcClient.connect(daemonPaths(paths).socket)
  } catch (err) {
    if (isDmessError(err) && err.code === 'DAEMON_NOT_RUNNING') return undefined
    throw err
  }
}

/** For commands that only work with a running daemon: a client, or one line saying how to start one. */
export async function requireDaemon (paths: HomePaths): Promise<IpcClient> {
  const client = await findDaemon(paths)
  if (client) return client
  throw errors.DAEMON_NOT_RUNNING(`no dmess daemon is running for ${paths.home}; start one with \`dmess daemon --detach\``)
}

export async function daemonStatus (paths: HomePaths): Promise<DaemonStatus | { running: false }> {
  const client = await findDaemon(paths)
  if (!client) return { running: false }
  try {
    return await client.call('status', {}, STATUS_TIMEOUT_MS)
  } finally {
    client.close()
  }
}

/** Asks the daemon to stop and waits until its process has exited. */
export async function stopDaemon (paths: HomePaths, waitMs = STOP_WAIT_MS): Promise<{ pid: number, agent: boolean }> {
  const client = await requireDaemon(paths)
  let pid: number
  let agent: boolean
  try {
    // which kind it is, so the user is told what stopped (an unlock agent is a daemon offline, ipc.md §14)
    agent = (await client.call('status', {}, STATUS_TIMEOUT_MS)).mode === 'agent'
    pid = (await client.call('stop', {})).pid
  } finally {
    client.close()
  }
  if (!await waitForExit(pid, waitMs)) throw errors.DAEMON_FAILED(`the ${agent ? 'unlock agent' : 'daemon'} (pid ${pid}) is still running ${waitMs / 1000} s after it was asked to stop`)
  return { pid, agent }
}

/**
 * `dmess lock`: stops the unlock agent (ipc.md §14) and waits until its process has exited (its
 * keys wiped). Asked on the connection that stops it, so a daemon that took the socket meanwhile
 * is never stopped by mistake. A daemon there (online, started on purpose) is DAEMON_RUNNING;
 * nothing there: undefined.
 */
export async function stopAgent (paths: HomePaths, waitMs = STOP_WAIT_MS): Promise<{ pid: number } | undefined> {
  const client = await findDaemon(paths)
  if (client === undefined) return undefined
  let pid: number
  try {
    const st = await client.call('status', {}, STATUS_TIMEOUT_MS)
    if (st.mode !== 'agent') throw errors.DAEMON_RUNNING(`the dmess daemon (pid ${st.pid}) runs for ${paths.home}, not an unlock agent: it holds the keys while it runs; \`dmess stop\` stops it`)
    pid = (await client.call('stop', {})).pid
  } finally {
    client.close()
  }
  if (!await waitForExit(pid, waitMs)) throw errors.DAEMON_FAILED(`the unlock agent (pid ${pid}) is still running ${waitMs / 1000} s after it was asked to stop`)
  return { pid }
}

/** contactLabel for the JSON shape the methods return. */
export function contactJsonLabel (c: ContactJson): string {
  return contactLabel({ fingerprint: c.fingerprint, name: c.name ?? undefined, verified: c.verified, addedAt: Date.parse(c.addedAt) })
}

/**
 * After a change to config.yaml: a running daemon read the file when it started and keeps what
 * it read, so say so (on stderr: stdout stays the one line a script reads). Nothing when no
 * daemon runs.
 */
export async function noteConfigNeedsRestart (paths: HomePaths, write: (line: string) => void): Promise<void> {
  const s = await daemonStatus(paths).catch(() => ({ running: false as const }))
  if (!s.running) return
  write(`note: the running daemon (pid ${s.pid}) uses the new value after a restart: dmess stop, then dmess daemon\n`)
}
