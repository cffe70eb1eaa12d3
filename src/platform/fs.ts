// Disk adapter: the only place that knows how to replace a file so that a crash at any moment
// leaves either the old or the new content, never a mix (write temp, fsync, rename, fsync dir).
import { open, rename, unlink, mkdir, readdir, stat } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'

export interface AtomicWriteOptions {
  mode?: number
  /** Test hook: called after the temp file is durable and before the rename. */
  beforeRename?: (tmpPath: string) => Promise<void> | void
}

const TEMP_ID_BYTES = 6

export async function writeFileAtomic (path: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `.${basename(path)}.${randomBytes(TEMP_ID_BYTES).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', opts.mode ?? 0o600)
  try {
    await fh.writeFile(data)
    if (opts.mode !== undefined) await fh.chmod(opts.mode) // umask may have narrowed or widened it
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    if (opts.beforeRename) await opts.beforeRename(tmp)
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  await fsyncDir(dir)
}

async function fsyncDir (dir: string): Promise<void> {
  const dh = await open(dir, 'r')
  try { await dh.sync() } catch { /* some filesystems refuse fsync on directories */ } finally { await dh.close() }
}

/**
 * Removes temp files that an interrupted writeFileAtomic (a SIGKILL between open and rename) left
 * next to `path`. Only those older than `olderThanMs` go, so a writer still running in another
 * process keeps its temp file. Returns the names removed. For a keystore this matters: a leftover
 * holds the secrets sealed under a passphrase the user may since have changed.
 */
export async function sweepAtomicTemps (path: string, olderThanMs = 60_000, now = Date.now()): Promise<string[]> {
  const dir = dirname(path)
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(path))}\\.[0-9a-f]{${TEMP_ID_BYTES * 2}}\\.tmp$`)
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return [] // no directory, nothing left behind
  }
  const removed: string[] = []
  for (const name of names.filter(n => pattern.test(n))) {
    try {
      const st = await stat(join(dir, name))
      if (!st.isFile() || now - st.mtimeMs < olderThanMs) continue
      await unlink(join(dir, name))
      removed.push(name)
    } catch { /* raced with another sweeper or the writer's own cleanup */ }
  }
  return removed
}

function escapeRegExp (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
