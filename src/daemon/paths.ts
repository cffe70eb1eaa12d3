// The daemon's files in the home (proto-spec/ipc.md §Files). The home itself is 0700.
import { join } from 'node:path'
import type { HomePaths } from '../config/home.js'

export interface DaemonPaths {
  /** the IPC Unix socket, mode 0600 */
  socket: string
  /** the daemon's PID, one decimal line; present while it runs */
  pidfile: string
  /** stdout and stderr of a daemon started with --detach */
  log: string
}

export function daemonPaths (paths: HomePaths): DaemonPaths {
  return {
    socket: join(paths.home, 'daemon.sock'),
    pidfile: join(paths.home, 'daemon.pid'),
    log: join(paths.home, 'daemon.log')
  }
}
