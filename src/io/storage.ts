// Disk, as a node takes it: the LevelDB that holds messages, contacts and the outbox
// (proto-spec/storage.md), and small files replaced atomically (the messaging state,
// proto-spec/messaging.md §10). The real backend is classic-level and the file system; the
// in-memory one (memory-level, the same abstract-level API) is for simulated nodes: its
// operations complete on the microtask queue, so a simulation replays exactly, and what a
// "crashed" node had committed is still there when it starts again.
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises'
import type { AbstractLevel } from 'abstract-level'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { writeFileAtomic } from '../platform/fs.js'

export type LevelDb = AbstractLevel<string | Uint8Array | Buffer, string, Uint8Array>

export interface Storage {
  /** Open (creating if missing) the database at `dir`; rejects as classic-level does (LEVEL_LOCKED, …). */
  openDb: (dir: string) => Promise<LevelDb>
  /** The file's bytes, or null when there is none. */
  readFile: (path: string) => Promise<Uint8Array | null>
  /** Replace the file: after a crash at any moment it holds the old bytes or the new, never a mix. */
  writeFileAtomic: (path: string, bytes: Uint8Array) => Promise<void>
  rename: (from: string, to: string) => Promise<void>
  /** Delete the file; one that is not there is not an error. */
  remove: (path: string) => Promise<void>
  /** The names of the files directly in `dir` (none when it does not exist). */
  list: (dir: string) => Promise<string[]>
}

const ENC = { keyEncoding: 'utf8', valueEncoding: 'view' } as const

export const diskStorage: Storage = {
  openDb: async (dir) => {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const db = new ClassicLevel<string, Uint8Array>(dir, ENC)
    await db.open()
    return db as unknown as LevelDb
  },
  readFile: async (path) => {
    try {
      return new Uint8Array(await readFile(path))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
  },
  writeFileAtomic: async (path, bytes) => { await writeFileAtomic(path, bytes, { mode: 0o600 }) },
  rename: async (from, to) => { await rename(from, to) },
  remove: async (path) => {
    try {
      await unlink(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  },
  list: async (dir) => {
    try {
      return await readdir(dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  }
}

/**
 * Databases and files in memory, kept by path for as long as this object lives: a node stopped
 * (or abandoned mid-write, as by a crash) and started again on the same storage finds what it
 * had committed. One database is open at most once, like LevelDB's lock.
 */
export function memoryStorage (): Storage {
  const dbs = new Map<string, MemoryLevel<string, Uint8Array>>()
  const files = new Map<string, Uint8Array>()
  return {
    openDb: async (dir) => {
      let db = dbs.get(dir)
      if (db === undefined) {
        db = new MemoryLevel<string, Uint8Array>(ENC)
        dbs.set(dir, db)
      } else if (db.status === 'open' || db.status === 'opening') {
        // what classic-level reports for a held LOCK file
        throw Object.assign(new Error(`database ${dir} is already open`), { code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'LEVEL_LOCKED' } })
      }
      await db.open()
      return db as unknown as LevelDb
    },
    readFile: async (path) => files.get(path)?.slice() ?? null,
    writeFileAtomic: async (path, bytes) => { files.set(path, bytes.slice()) },
    rename: async (from, to) => {
      const b = files.get(from)
      if (b === undefined) throw Object.assign(new Error(`no such file: ${from}`), { code: 'ENOENT' })
      files.delete(from)
      files.set(to, b)
    },
    remove: async (path) => { files.delete(path) },
    list: async (dir) => {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`
      return [...files.keys()].filter(p => p.startsWith(prefix) && !p.includes('/', prefix.length)).map(p => p.slice(prefix.length))
    }
  }
}
