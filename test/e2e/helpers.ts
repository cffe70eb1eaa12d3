// End-to-end helpers: real homes made by `dmess init`, real daemons started with
// `dmess daemon --detach` on 127.0.0.1 (static --peer, no mDNS), every command through the
// built commands, run in this process (test/helpers/cli-inproc.ts: the same commands, output and
// exit code, without ~0.3 s of CPU for node and oclif per command; `daemon --detach` starts the
// daemon process as from the binary), but for those that need a terminal or run in the foreground.
// Each daemon is killed by its own PID in teardown.
import dgram from 'node:dgram'
import { join } from 'node:path'
import { runCli, type CliResult } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { cliHome, PW, waitFor } from '../daemon/helpers.js'
import { IpcClient } from '../../src/daemon/ipc-client.js'
import type { MethodName, Params, Result } from '../../src/daemon/rpc-methods.js'
import { isProcessAlive, readPidFile, waitForExit } from '../../src/daemon/lock.js'

export { waitFor, PW }

type Teardown = { teardown: (fn: () => Promise<void> | void) => void }

/** Every daemon these tests started, by PID: stopped in teardown, and killed if the test process exits first (a timeout). */
const started = new Set<number>()
process.on('exit', () => { for (const pid of started) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL') })

async function stopPid (pid: number): Promise<void> {
  if (isProcessAlive(pid)) {
    process.kill(pid, 'SIGTERM')
    if (!await waitForExit(pid, 10_000)) process.kill(pid, 'SIGKILL')
  }
  started.delete(pid)
}

export interface Node {
  name: string
  home: string
  fingerprint: string
  invite: string
  port: number
}

/** Ports free on 127.0.0.1 right now (bound, read, released). */
export async function freePorts (n: number): Promise<number[]> {
  const socks = await Promise.all(Array.from({ length: n }, async () => await new Promise<dgram.Socket>(resolve => {
    const s = dgram.createSocket('udp4')
    s.bind(0, '127.0.0.1', () => resolve(s))
  })))
  const ports = socks.map(s => s.address().port)
  await Promise.all(socks.map(async s => await new Promise<void>(resolve => s.close(() => resolve()))))
  return ports
}

export async function makeNodes (t: Teardown, names: string[]): Promise<Node[]> {
  const ports = await freePorts(names.length)
  return await Promise.all(names.map(async (name, i) => {
    const h = await cliHome(t, name)
    return { name, home: h.home, fingerprint: h.fingerprint, invite: h.invite, port: ports[i] as number }
  }))
}

/** `dmess <args> --home <node>`; throws with stderr when it fails. */
export async function cli (node: Node, args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<string> {
  const r = await cliResult(node, args, timeoutMs, env)
  if (r.code !== 0) throw new Error(`dmess ${args.join(' ')} (${node.name}) exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

/** Commands that hold a terminal or run until stopped: as `dmess` processes. */
const OWN_PROCESS = new Set(['chat', 'bootstrap'])

export async function cliResult (node: Node, args: string[], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<CliResult> {
  const run = OWN_PROCESS.has(args[0] ?? '') || (args[0] === 'daemon' && !args.includes('--detach')) ? runCli : runCliInProcess
  return await run([...args, '--home', node.home], { env: { ...PW, ...env }, timeoutMs })
}

export async function cliJson<T> (node: Node, args: string[]): Promise<T> {
  return JSON.parse(await cli(node, [...args, '--json'])) as T
}

/** `dmess daemon --detach` on 127.0.0.1:<node.port>, dialling `peers` statically, `env` added to its environment; stopped in teardown. */
export async function startDaemon (t: Teardown, node: Node, peers: Node[], env: Record<string, string> = {}): Promise<number> {
  const args = ['daemon', '--detach', '--host', '127.0.0.1', '--port', String(node.port), '--no-mdns']
  for (const p of peers) args.push('--peer', `${p.fingerprint}@127.0.0.1:${p.port}`) // wire.md §4.1.1: a dial names whom it calls
  await cli(node, args, 60_000, env)
  const pid = await daemonPid(node)
  started.add(pid)
  t.teardown(async () => { await stopPid(pid) })
  return pid
}

/** SIGKILL, as a crash: nothing is flushed, nothing cleaned up. */
export async function crash (pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL')
  await waitForExit(pid, 10_000)
  started.delete(pid)
}

export async function daemonPid (node: Node): Promise<number> {
  const pid = await readPidFile(join(node.home, 'daemon.pid'))
  if (pid === undefined) throw new Error(`${node.name} has no pidfile`)
  return pid
}

/** A raw IPC client (for bulk work where 100s of CLI processes would only measure node startup). */
export async function ipc (node: Node): Promise<IpcClient> {
  return await IpcClient.connect(join(node.home, 'daemon.sock'))
}

/**
 * One IPC call to a node's daemon on a fresh connection. For polling in a wait loop: a `dmess`
 * process per poll costs ~0.4 s of CPU (node and oclif starting), this a Unix-socket round trip;
 * what the CLI prints is asserted once, after the wait.
 */
export async function ipcCall<M extends MethodName> (node: Node, method: M, params: Params<M>, timeoutMs?: number): Promise<Result<M>> {
  const c = await ipc(node)
  try {
    return await c.call(method, params, timeoutMs)
  } finally {
    c.close()
  }
}

export interface HistoryEntry { id: string, direction: 'in' | 'out', text: string, timestamp: number, status: string }

export async function history (node: Node, contact: string): Promise<HistoryEntry[]> {
  return await cliJson<HistoryEntry[]>(node, ['history', contact, '--limit', '10000'])
}

/** Runs `fn` over `items` with at most `n` at a time; results in input order. */
export async function pool<T, R> (items: readonly T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T, i)
    }
  }))
  return out
}

export async function waitForStatus (node: Node, contact: string, ids: readonly string[], status: string, timeoutMs: number): Promise<void> {
  const want = new Set(ids)
  let last = ''
  await waitFor(async () => {
    // over IPC: a `dmess history` process every 25 ms would cost more CPU than the daemons
    const h = (await ipcCall(node, 'messages.history', { contact, limit: 10_000 })).messages
    const missing = h.filter(m => want.has(m.id) && m.status !== status).length + (ids.length - h.filter(m => want.has(m.id)).length)
    last = `${missing} of ${ids.length} not ${status}`
    return missing === 0
  }, timeoutMs, () => `${node.name}: ${last}`)
}
