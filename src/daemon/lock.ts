// One daemon per home (proto-spec/ipc.md §One daemon per home).
//
// The mutex is LevelDB's own LOCK on <home>/db, which the daemon holds for its whole life. It is
// an fcntl lock: the kernel drops it when the process dies, even by SIGKILL, so it never goes
// stale, and a PID reused by an unrelated process cannot fake it. A lock file created with
// O_EXCL and checked with kill(pid, 0) has both problems (a stale file after a crash, and a
// live-looking PID after reuse) and guards a resource that already has a better lock.
//
// The pidfile and the socket are therefore not locks but notices, written only by the process
// that holds the store lock. A daemon that holds it may remove a leftover socket or pidfile:
// no other daemon of this home can be alive. `dmess stop` reads the PID to wait for the exit.
import { readFile, unlink } from 'node:fs/promises'
import { writeFileAtomic } from '../platform/fs.js'
import type { Component } from '../runtime/component.js'

export class PidFile implements Component {
  readonly name = 'pidfile'

  constructor (readonly path: string, readonly pid: number = process.pid) {}

  async start (): Promise<void> {
    await writeFileAtomic(this.path, `${this.pid}\n`, { mode: 0o600 })
  }

  /** Removes the file only if it still names this process. */
  async stop (): Promise<void> {
    if (await readPidFile(this.path) === this.pid) await unlink(this.path).catch(() => {})
  }
}

/** The PID in a pidfile, or undefined when there is none or it does not hold one. */
export async function readPidFile (path: string): Promise<number | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  const t = text.trim()
  if (!/^\d{1,10}$/.test(t)) return undefined
  const pid = Number(t)
  return pid > 0 ? pid : undefined
}

/** kill(pid, 0): no signal is sent; EPERM still means the process exists. */
export function isProcessAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Polls until `pid` has exited; false if it is still alive after `timeoutMs`. */
export async function waitForExit (pid: number, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
  return true
}
