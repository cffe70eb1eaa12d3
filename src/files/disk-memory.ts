// The files module's disk in memory (disk.ts), for simulated nodes: sources are put in by the
// test, partial files are byte arrays, "synced" bytes are what survives a simulated crash
// (`crash()` drops whatever was written since the last sync), and placing never overwrites.
import { basename, join } from 'node:path'
import { candidateName, type FileDisk, type PartialFile, type SourceFile } from './disk.js'
import type { FileLeaves } from './disk-hash.js'
import { LeafHashes } from './merkle.js'

export class MemoryFileDisk implements FileDisk {
  readonly files = new Map<string, Uint8Array>()
  /** partial files: what was written, and what the last sync made durable */
  readonly #partials = new Map<string, { live: Uint8Array, durable: Uint8Array }>()
  /** when set, writes fail with this errno code (a full disk: ENOSPC) */
  failWrites: string | null = null
  /** when set, the bytes partial and placed files may take in all: a write that would grow past it fails with ENOSPC, as a full disk */
  capacity: number | null = null
  /** when set, each write to a partial file waits for it first (a disk slower than the link) */
  writeDelay: (() => Promise<void>) | null = null
  /** awaited by every sync of a partial file before it returns: a slow fsync (the writes before it are durable once it returns) */
  syncDelay: (() => Promise<void>) | null = null
  /** syncs of partial files so far */
  syncs = 0
  /** writes to partial files so far (one per call, however many chunks it carries) */
  writes = 0
  /** whole files hashed so far, per path (a sender's source before its offer, a receiver's read-back) */
  readonly hashed = new Map<string, number>()

  async statSource (path: string): Promise<{ size: number, isDirectory: boolean } | null> {
    const f = this.files.get(path)
    if (f !== undefined) return { size: f.length, isDirectory: false }
    const dir = path.endsWith('/') ? path : path + '/'
    for (const p of this.files.keys()) if (p.startsWith(dir)) return { size: 0, isDirectory: true }
    return null
  }

  async hashLeaves (path: string, chunkSize: number): Promise<FileLeaves> {
    const f = this.#need(path)
    this.hashed.set(path, (this.hashed.get(path) ?? 0) + 1)
    const leaves = new LeafHashes()
    for (let o = 0; o < f.length; o += chunkSize) leaves.push(f.subarray(o, o + chunkSize))
    return { size: f.length, leaves, above: [] }
  }

  async openSource (path: string): Promise<SourceFile> {
    this.#need(path)
    return {
      // read at each call, as from an open file: a test that alters the source is seen
      read: async (offset, length, into) => {
        const bytes = this.#need(path).subarray(offset, offset + length)
        into.set(bytes)
        return into.subarray(0, bytes.length)
      },
      close: async () => {}
    }
  }

  async openPartial (path: string): Promise<PartialFile> {
    let p = this.#partials.get(path)
    if (p === undefined) {
      p = { live: new Uint8Array(0), durable: new Uint8Array(0) }
      this.#partials.set(path, p)
    }
    const part = p
    return {
      write: async (offset, parts) => {
        this.writes++
        const bytes = parts.length === 1 ? parts[0] as Uint8Array : Buffer.concat(parts)
        if (this.writeDelay !== null) await this.writeDelay()
        if (this.failWrites !== null) throw Object.assign(new Error(`write: ${this.failWrites}`), { code: this.failWrites })
        const grow = Math.max(0, offset + bytes.length - part.live.length)
        if (this.capacity !== null && this.used() + grow > this.capacity) throw Object.assign(new Error('write: no space left on device'), { code: 'ENOSPC' })
        if (offset + bytes.length > part.live.length) {
          const grown = new Uint8Array(offset + bytes.length)
          grown.set(part.live)
          part.live = grown
        }
        part.live.set(bytes, offset)
      },
      sync: async () => {
        this.syncs++
        const durable = part.live.slice() // what was written before the call
        if (this.syncDelay !== null) await this.syncDelay()
        part.durable = durable
      },
      close: async () => {}
    }
  }

  /** The partial file's bytes as written (tests alter them to play a disk that lost or changed data). */
  partialBytes (path: string): Uint8Array | undefined { return this.#partials.get(path)?.live }

  /** Bytes taken by partial and placed files (what `capacity` bounds). */
  used (): number {
    let n = 0
    for (const p of this.#partials.values()) n += p.live.length
    for (const f of this.files.values()) n += f.length
    return n
  }

  /** A crash: every partial file keeps only what its last sync made durable. */
  crash (): void {
    for (const p of this.#partials.values()) p.live = p.durable.slice()
  }

  async removeFile (path: string): Promise<void> {
    this.#partials.delete(path)
    this.files.delete(path)
  }

  async place (partial: string, dir: string, name: string): Promise<string> {
    const p = this.#partials.get(partial)
    if (p === undefined) throw Object.assign(new Error(`no partial file ${partial}`), { code: 'ENOENT' })
    for (let k = 0; ; k++) {
      const target = join(dir, candidateName(basename(name), k))
      if (this.files.has(target)) continue
      this.files.set(target, p.durable.slice())
      return target
    }
  }

  #need (path: string): Uint8Array {
    const f = this.files.get(path) ?? this.#partials.get(path)?.live
    if (f === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' })
    return f
  }
}
