// Where a node keeps its state: one home directory holding the keystore, the LevelDB store, the
// config file and (later) the daemon's socket, pidfile and log. Resolution order:
// --home flag, then $DMESS_HOME, then the XDG data dir ($XDG_DATA_HOME or ~/.local/share)/dmess.
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { mkdir, chmod, readdir, stat } from 'node:fs/promises'

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

/**
 * What the daemon asserts at every start, before it opens anything: the home is 0700 again (a
 * `chmod 755` or an unpacked backup may have widened it) and every file already in the store's
 * directory is owner-only, so one made under a lax umask by an older `dmess init` is closed too.
 * Files created afterwards inherit the daemon's umask 077 (src/daemon/run.ts).
 */
export async function secureHome (paths: HomePaths): Promise<void> {
  await ensureHome(paths.home)
  let names: string[]
  try {
    names = await readdir(paths.db)
  } catch {
    return // no store yet: the daemon creates it under its umask
  }
  await chmod(paths.db, 0o700)
  for (const name of names) {
    const file = join(paths.db, name)
    const st = await stat(file).catch(() => undefined)
    if (st?.isFile() === true && (st.mode & 0o077) !== 0) await chmod(file, st.mode & 0o700)
  }
}
