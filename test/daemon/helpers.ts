// Shared pieces for the daemon tests: profiles in temp homes, a daemon as a real child process
// (always killed in teardown, by its own PID), and a raw line-oriented socket client.
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { join } from 'node:path'
import { BIN, tempHome } from '../helpers/cli.js'
import { quickHome, TINY_KDF } from '../helpers/profiles.js'
import { initProfile } from '../../src/app/profile.js'
import { homePaths, type HomePaths } from '../../src/config/home.js'
import { isProcessAlive, readPidFile, waitForExit } from '../../src/daemon/lock.js'

export const PASS = 'correct horse battery staple'
export const PW = { DMESS_PASSPHRASE: PASS }
/** Cheap Argon2id for test homes (test/helpers/profiles.ts; `dmess init` uses the real parameters). */
export { TINY_KDF }

type Teardown = { teardown: (fn: () => Promise<void> | void) => void }

export async function profileHome (t: Teardown, name = 'alice'): Promise<{ paths: HomePaths, fingerprint: string, invite: string }> {
  const home = await tempHome(t)
  const p = await initProfile(homePaths(home), PASS, { name, kdf: TINY_KDF })
  return { paths: homePaths(home), fingerprint: p.fingerprint, invite: p.invite }
}

/**
 * A home for the CLI and daemon tests, as `dmess init` makes it (test/helpers/profiles.ts
 * quickHome: the same initProfile, cheap Argon2id, so each daemon start and CLI unlock is ~1 s
 * cheaper). test/cli/init-id.test.ts runs the real `dmess init`.
 */
export async function cliHome (t: Teardown, name = 'alice'): Promise<{ home: string, fingerprint: string, invite: string }> {
  return await quickHome(t, name)
}

export interface DaemonChild {
  child: ChildProcess
  pid: number
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

const LOOPBACK = ['--host', '127.0.0.1', '--port', '0', '--no-mdns']

/** `dmess daemon` in the foreground as a child; resolves once it prints that it runs. */
export async function startForeground (t: Teardown, home: string, extra: string[] = [], env: Record<string, string> = PW): Promise<DaemonChild> {
  const fullEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DMESS_PASSPHRASE' && k !== 'DMESS_HOME') fullEnv[k] = v
  const child = spawn(process.execPath, [BIN, 'daemon', '--home', home, ...LOOPBACK, ...extra], { env: { ...fullEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', d => { out += d })
  child.stderr?.on('data', d => { err += d })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.on('exit', (code, signal) => resolve({ code, signal })))
  const pid = child.pid as number
  t.teardown(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited } })
  await Promise.race([
    waitFor(() => out.includes('dmess daemon running'), 30_000, () => `daemon did not start: ${err}`),
    exited.then(e => { throw new Error(`daemon exited early (${e.code ?? e.signal}): ${err}`) })
  ])
  return { child, pid, stdout: () => out, stderr: () => err, exited }
}

/** Teardown for daemons started with --detach: stop by their pidfile's PID (they are ours). */
export function killDetachedOnTeardown (t: Teardown, home: string): void {
  t.teardown(async () => {
    const pid = await readPidFile(join(home, 'daemon.pid'))
    if (pid === undefined || !isProcessAlive(pid)) return
    process.kill(pid, 'SIGTERM')
    if (!await waitForExit(pid, 10_000)) process.kill(pid, 'SIGKILL')
  })
}

/**
 * Polls `cond` until it holds, or throws after `timeoutMs`. Between looks it pauses 25 ms, or twice
 * as long as the look took (at most 1 s): a look that runs a `dmess` process costs ~0.3–0.5 s of CPU,
 * and polling back to back kept a core busy with them while the daemons under test waited for it.
 */
export async function waitFor (cond: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string = () => 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const started = Date.now()
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`)
    const took = Date.now() - started
    await new Promise(resolve => setTimeout(resolve, Math.min(1000, Math.max(25, 2 * took))))
  }
}

/** A bare socket speaking lines, to send what a well-behaved client never would. */
export class RawClient {
  private buf = ''
  private readonly lines: string[] = []
  private waiters: Array<() => void> = []
  closed = false

  private constructor (readonly socket: net.Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => {
      this.buf += d
      let i
      while ((i = this.buf.indexOf('\n')) >= 0) { this.lines.push(this.buf.slice(0, i)); this.buf = this.buf.slice(i + 1) }
      this.wake()
    })
    socket.on('close', () => { this.closed = true; this.wake() })
    socket.on('error', () => {})
  }

  static async connect (path: string): Promise<RawClient> {
    const s = net.createConnection(path)
    await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject) })
    return new RawClient(s)
  }

  private wake (): void { const w = this.waiters; this.waiters = []; for (const f of w) f() }

  send (text: string | Buffer): void { this.socket.write(text) }

  /** The next line parsed as JSON; throws on timeout or close. */
  async next (timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('connection closed')
      if (Date.now() > deadline) throw new Error('no line within timeout')
      await new Promise<void>(resolve => { this.waiters.push(resolve); setTimeout(resolve, 50) })
    }
    return JSON.parse(this.lines.shift() as string) as Record<string, unknown>
  }

  close (): void { this.socket.destroy() }
}
