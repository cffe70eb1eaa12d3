// Where a node keeps its state: one home directory holding the keystore, the LevelDB store, the
// config file and (later) the daemon's socket, pidfile and log. Resolution order:
// --home flag, then $DMESS_HOME, then the XDG data dir ($XDG_DATA_HOME or ~/.local/share)/dmess.
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { mkdir, chmod, readdir, stat } from 'node:fs/promises'
import { errors } from '../errors.js'

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

/**
 * Creates the home with mode 0700: it holds private keys and message history. Missing parents are
 * made one at a time (not `mkdir -p`: Node's recursive mkdir never returns for a path under
 * /proc), and what stops it is said in one line: a file where the home should be, or why the
 * directory cannot be made.
 */
export async function ensureHome (home: string): Promise<void> {
  const missing: string[] = []
  for (let dir = home; ; dir = dirname(dir)) {
    const kind = await kindOf(dir)
    if (kind === 'dir') break
    if (kind === 'other') throw errors.BAD_ARGUMENT(dir === home ? `${home} is a file, not a directory: choose another home (--home or DMESS_HOME)` : `cannot use ${home} as the home: ${dir} is a file`)
    missing.unshift(dir)
    if (dirname(dir) === dir) break
  }
  for (const dir of missing) {
    try {
      await mkdir(dir, { mode: 0o700 })
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST' && await kindOf(dir) === 'dir') continue // made meanwhile
      throw errors.BAD_ARGUMENT(`cannot create the home ${home}: ${REASONS[code ?? ''] ?? code ?? String(err)} (${dir})`)
    }
  }
  await chmod(home, 0o700)
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'the file system does not allow a directory there',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a part of the path is a file'
}

async function kindOf (path: string): Promise<'dir' | 'other' | 'none'> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'other'
  } catch (err) {
    // ENOTDIR: a parent is a file; the walk up finds and names it
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return 'none'
    throw err
  }
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
