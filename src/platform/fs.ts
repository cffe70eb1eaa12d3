// Disk adapter: the only place that knows how to replace a file so that a crash at any moment
// leaves either the old or the new content, never a mix (write temp, fsync, rename, fsync dir).
import { open, rename, unlink, mkdir } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'

export interface AtomicWriteOptions {
  mode?: number
  /** Test hook: called after the temp file is durable and before the rename. */
  beforeRename?: (tmpPath: string) => Promise<void> | void
}

export async function writeFileAtomic (path: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
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
