// Where a node keeps its state: one home directory holding the keystore, the LevelDB store, the
// config file and (later) the daemon's socket, pidfile and log. Resolution order:
// --home flag, then $DMESS_HOME, then the XDG data dir ($XDG_DATA_HOME or ~/.local/share)/dmess.
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { mkdir, chmod } from 'node:fs/promises'

export interface HomePaths {
  home: string
  keystore: string
  db: string
  config: string
}

export function resolveHome (flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag)
  if (env.DMESS_HOME) return resolve(env.DMESS_HOME)
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share')
  return join(xdg, 'dmess')
}

export function homePaths (home: string): HomePaths {
  return {
    home,
    keystore: join(home, 'identity.keystore'),
    db: join(home, 'db'),
    config: join(home, 'config.yaml')
  }
}

/** Creates the home with mode 0700: it holds private keys and message history. */
export async function ensureHome (home: string): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 })
  await chmod(home, 0o700)
}
