// Size-based rotation of <home>/daemon.log, the log of a daemon started with --detach (its
// stdout and stderr are that file, opened for appending by the starting process). When the file
// reaches `maxBytes` it is copied to daemon.log.1 (daemon.log.1 to .2, …, keeping `keep`) and
// truncated in place, the "copytruncate" of logrotate(8): the daemon cannot reopen its own fds 1
// and 2 (Node has no dup2), and since they were opened with O_APPEND, writes after the truncation
// start again at offset 0, with no hole. The copy and truncation happen inside a (synchronous)
// log write, so no line of the daemon's own is lost between them. A foreground daemon logs to
// its stderr: whatever reads that (a terminal, systemd's journal) keeps and rotates it.
import { copyFileSync, fstatSync, ftruncateSync, renameSync, rmSync, writeSync } from 'node:fs'

export interface LogRotation {
  /** the file behind `fd` */
  path: string
  /** rotate once the file reaches this many bytes; 0: never */
  maxBytes: number
  /** rotated files kept: path.1 (newest) … path.<keep>; 0: the old lines are dropped */
  keep: number
}

/** A pino destination (anything with write()) that writes synchronously to `fd` and rotates the file behind it. */
export class RotatingLog {
  #size: number

  constructor (readonly fd: number, readonly opts: LogRotation) {
    this.#size = fstatSync(fd).size
  }

  write (line: string): boolean {
    this.#size += writeSync(this.fd, line)
    if (this.opts.maxBytes > 0 && this.#size >= this.opts.maxBytes) {
      // other writers share the file (Node's own warnings on stderr): its real size decides
      this.#size = fstatSync(this.fd).size
      if (this.#size >= this.opts.maxBytes) this.rotate()
    }
    return true
  }

  /** Shifts path.N up by one, copies the file to path.1 and empties it. */
  rotate (): void {
    const { path, keep } = this.opts
    try {
      rmSync(`${path}.${keep}`, { force: true })
      for (let i = keep - 1; i >= 1; i--) {
        try { renameSync(`${path}.${i}`, `${path}.${i + 1}`) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err }
      }
      if (keep > 0) copyFileSync(path, `${path}.1`)
    } catch {
      // a full disk or a removed directory: keep logging into the one file rather than stop
    }
    ftruncateSync(this.fd, 0)
    this.#size = 0
  }
}
