// The files module's disk (proto-spec/files.md §5): the source file a sender reads chunks from,
// the partial file a receiver writes verified chunks into, and the move of a finished file into
// the download directory under a sanitised name that never overwrites. An interface, so the
// simulated testnet runs transfers in memory (disk-memory.ts) and the daemon on the real disk.
import { constants as fsc } from 'node:fs'
import { copyFile, link, mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, extname, join } from 'node:path'
import { hashFileLeaves, type FileLeaves } from './disk-hash.js'

export type { FileLeaves } from './disk-hash.js'

export interface PartialFile {
  /** `parts`, one after the other, from `offset`: all of them written, or an error */
  write: (offset: number, parts: readonly Uint8Array[]) => Promise<void>
  /** fdatasync: what was written before is on the disk */
  sync: () => Promise<void>
  close: () => Promise<void>
}

export interface SourceInfo { size: number, isDirectory: boolean }

/** A file being sent, open while its transfer is active: one open per transfer, not per chunk. */
export interface SourceFile {
  /** `length` bytes from `offset` into `into` (its start); the bytes read, fewer at the end of the file */
  read: (offset: number, length: number, into: Uint8Array) => Promise<Uint8Array>
  close: () => Promise<void>
}

export interface FileDisk {
  /** null when there is nothing at `path` */
  statSource: (path: string) => Promise<SourceInfo | null>
  /**
   * The leaf hash of every chunk of the file (the whole file read once) and the bytes hashed
   * (files.md §2): the sender's tree before its offer, the receiver's read-back (§5.2).
   */
  hashLeaves: (path: string, chunkSize: number) => Promise<FileLeaves>
  openSource: (path: string) => Promise<SourceFile>
  openPartial: (path: string) => Promise<PartialFile>
  removeFile: (path: string) => Promise<void>
  /** Puts a finished partial file into `dir` as `name` or `name (k).ext`, never over an existing file; the path it got. The partial file stays (the caller removes it once the transfer is recorded done). */
  place: (partial: string, dir: string, name: string) => Promise<string>
}

const MAX_NAME_BYTES = 255

/**
 * A name from a peer made safe as one file name in the download directory: no path separators,
 * control or invisible formatting characters, no leading dots (no hidden files, no `..`), no
 * trailing dots or spaces, at most 255 bytes; `file` when nothing is left.
 */
export function sanitiseName (name: string): string {
  // eslint-disable-next-line no-control-regex
  let s = name.replace(/[/\\\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '_')
  s = s.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '')
  while (Buffer.byteLength(s) > MAX_NAME_BYTES) s = s.slice(0, -1)
  return s === '' ? 'file' : s
}

/** `name`, then `name (1).ext`, `name (2).ext`, …: the candidates for a free file name. */
export function candidateName (name: string, k: number): string {
  if (k === 0) return name
  const ext = extname(name)
  const stem = ext === '' || ext === name ? name : name.slice(0, -ext.length)
  return `${stem} (${k})${ext === name ? '' : ext}`
}

/** files.downloadDir when set, else $XDG_DOWNLOAD_DIR/dmess, else ~/Downloads/dmess (files.md §5.2). */
export function defaultDownloadDir (env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DOWNLOAD_DIR
  return xdg !== undefined && xdg !== '' ? join(xdg, 'dmess') : join(homedir(), 'Downloads', 'dmess')
}

function code (err: unknown): string | undefined { return (err as NodeJS.ErrnoException).code }

export const realFileDisk: FileDisk = {
  statSource: async (path) => {
    try {
      const s = await stat(path)
      return { size: s.size, isDirectory: s.isDirectory() }
    } catch (err) {
      if (code(err) === 'ENOENT') return null
      throw err
    }
  },
  hashLeaves: hashFileLeaves,
  openSource: async (path) => {
    const fh = await open(path, 'r')
    return {
      read: async (offset, length, into) => {
        let got = 0
        while (got < length) {
          const { bytesRead } = await fh.read(into, got, length - got, offset + got)
          if (bytesRead === 0) break
          got += bytesRead
        }
        return into.subarray(0, got)
      },
      close: async () => { await fh.close() }
    }
  },
  openPartial: async (path) => {
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 })
    const fh: FileHandle = await open(path, fsc.O_RDWR | fsc.O_CREAT, 0o600)
    return {
      write: async (offset, parts) => {
        // one pwritev for all the parts; a short write goes on from where it stopped
        let left = parts.filter(p => p.length > 0)
        let at = offset
        while (left.length > 0) {
          const { bytesWritten } = await fh.writev(left, at)
          if (bytesWritten <= 0) throw Object.assign(new Error('write: nothing written'), { code: 'EIO' })
          at += bytesWritten
          let n = bytesWritten
          let i = 0
          while (i < left.length && n >= (left[i] as Uint8Array).length) n -= (left[i++] as Uint8Array).length
          left = i < left.length ? [(left[i] as Uint8Array).subarray(n), ...left.slice(i + 1)] : []
        }
      },
      sync: async () => { await fh.datasync() },
      close: async () => { await fh.close() }
    }
  },
  removeFile: async (path) => {
    try { await unlink(path) } catch (err) { if (code(err) !== 'ENOENT') throw err }
  },
  place: async (partial, dir, name) => {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    for (let k = 0; k < 10_000; k++) {
      const target = join(dir, candidateName(basename(name), k))
      try {
        await link(partial, target) // fails with EEXIST rather than replace anything
      } catch (err) {
        if (code(err) === 'EEXIST') continue
        if (code(err) !== 'EXDEV' && code(err) !== 'EPERM' && code(err) !== 'ENOTSUP') throw err
        try {
          await copyFile(partial, target, fsc.COPYFILE_EXCL)
          const fh = await open(target, 'r')
          try { await fh.sync() } finally { await fh.close() }
        } catch (e) {
          if (code(e) === 'EEXIST') continue
          // a copy cut short (a full disk) leaves no truncated file under the name: the partial
          // file is still whole, and placing is tried again on resume (files.md §4.1)
          await unlink(target).catch(() => {})
          throw e
        }
      }
      await syncDir(dir)
      return target
    }
    throw new Error(`no free name for ${name} in ${dir}`)
  }
}

async function syncDir (dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try { await fh.sync() } catch { /* some file systems refuse fsync on a directory: the link is still made */ } finally { await fh.close() }
}
