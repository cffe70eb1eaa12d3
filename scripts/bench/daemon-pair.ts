// Two dmess daemons on loopback for the daemon-to-daemon benchmarks (messaging.ts, files.ts): each a
// home made with a cheap KDF, a free UDP port, started detached with the other as a static peer, and
// read from /proc for CPU time and RSS.
import { spawn } from 'node:child_process'
import dgram from 'node:dgram'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { initProfile } from '../../src/app/profile.js'
import { homePaths } from '../../src/config/home.js'
import { isProcessAlive, readPidFile, waitForExit } from '../../src/daemon/lock.js'

export const PASS = 'bench passphrase'
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'run.js')

export interface Node { name: string, home: string, port: number, invite: string, fingerprint: string, pid?: number }

async function freePort (): Promise<number> {
  const s = dgram.createSocket('udp4')
  await new Promise<void>(resolve => s.bind(0, '127.0.0.1', () => resolve()))
  const port = s.address().port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

export async function makeNode (bench: string, name: string): Promise<Node> {
  const home = await mkdtemp(join(tmpdir(), `dmess-bench-${bench}-${name}-`))
  const p = await initProfile(homePaths(home), PASS, { name, kdf: { t: 1, m: 64, p: 1 } })
  return { name, home, port: await freePort(), invite: p.invite, fingerprint: p.fingerprint }
}

/** DMESS_BENCH_CPU_PROF=<dir>: both daemons write V8 CPU profiles there (the detached child inherits the flags). */
const PROF_DIR = process.env.DMESS_BENCH_CPU_PROF
/** DMESS_BENCH_NODE_FLAGS: more node/V8 flags for both daemons, space-separated (after DAEMON_NODE_FLAGS, so they win where both set one: src/daemon/detach.ts). */
const PROF_FLAGS = [...(PROF_DIR === undefined || PROF_DIR === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`]),
  ...(process.env.DMESS_BENCH_NODE_FLAGS ?? '').split(' ').filter(f => f !== '')]

/** DMESS_BENCH_MEMORY_LOG=<dir>: each daemon logs its memory every 250 ms to <dir>/<name>.jsonl (src/daemon/memory-log.ts). */
const MEM_DIR = process.env.DMESS_BENCH_MEMORY_LOG

export async function dmess (args: string[], env: Record<string, string> = {}): Promise<void> {
  const child = spawn(process.execPath, [...(args[0] === 'daemon' ? PROF_FLAGS : []), BIN, ...args], { env: { ...process.env, DMESS_PASSPHRASE: PASS, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', d => { err += d })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  if (code !== 0) throw new Error(`dmess ${args[0] ?? ''} failed: ${err}`)
}

export async function startDaemon (n: Node, peer: Node): Promise<void> {
  await dmess(['daemon', '--detach', '--home', n.home, '--host', '127.0.0.1', '--port', String(n.port), '--no-mdns', '--peer', `${peer.fingerprint}@127.0.0.1:${peer.port}`], // wire.md §4.1.1
    MEM_DIR === undefined || MEM_DIR === '' ? {} : { DMESS_MEMORY_LOG: join(MEM_DIR, `${n.name}.jsonl`) })
  n.pid = await readPidFile(join(n.home, 'daemon.pid'))
}

export async function stopNode (n: Node): Promise<void> {
  if (n.pid !== undefined && isProcessAlive(n.pid)) {
    process.kill(n.pid, 'SIGTERM')
    if (!await waitForExit(n.pid, 15_000)) process.kill(n.pid, 'SIGKILL')
  }
  await rm(n.home, { recursive: true, force: true })
}

export const socket = (n: Node): string => join(n.home, 'daemon.sock')

/** CPU time (user + system) a daemon has used so far, in ms (Linux /proc; NaN elsewhere). */
export async function cpuMs (n: Node): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${n.pid ?? 0}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) * 10 // clock ticks of 10 ms (USER_HZ = 100)
  } catch {
    return NaN
  }
}

/**
 * CPU time of a daemon's main thread (the JavaScript, and what it calls synchronously) so far, in
 * ms; cpuMs less this is its other threads: V8's collector and compiler helpers, libuv's pool
 * (LevelDB writes) and LevelDB's compaction (Linux /proc; NaN elsewhere).
 */
export async function mainThreadCpuMs (n: Node): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${n.pid ?? 0}/task/${n.pid ?? 0}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return NaN
  }
}

/** CPU ms so far of each of a daemon's threads, by "tid name" (Linux /proc; empty elsewhere). */
export async function threadCpuMs (n: Node): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  try {
    for (const tid of await readdir(`/proc/${n.pid ?? 0}/task`)) {
      const stat = await readFile(`/proc/${n.pid ?? 0}/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')
      out.set(`${tid} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`, (Number(fields[11]) + Number(fields[12])) * 10)
    }
  } catch {
    // not Linux, or the daemon is gone: no threads to report
  }
  return out
}

/** VmRSS of a daemon in MiB (Linux /proc; NaN elsewhere). */
export async function rssMiB (n: Node): Promise<number> {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${n.pid ?? 0}/status`, 'utf8'))?.[1]) / 1024
  } catch {
    return NaN
  }
}
