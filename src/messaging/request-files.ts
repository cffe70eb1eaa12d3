// The request book on disk (proto-spec/messaging.md §10.2): one sealed file per pending request in
// <home>/requests/, so holding a message rewrites that request only (O(request), never O(book)).
// A file is named by a keyed hash of the fingerprint (who wrote to us is not readable from the
// directory) and sealed like the state file: XChaCha20-Poly1305 under an HKDF-SHA256 key from
// the identity's X25519 secret, the file name in the AAD so files cannot be swapped. The files
// present are the book: no index to keep in step, and a crash leaves each file old or new.
// Writes of one request are coalesced: at most one in flight and one waiting, which takes the
// request as it is when it starts, so every caller's change is on disk when its promise resolves.
import { Packr } from 'msgpackr'
import { hkdfSha256, hmac, randomBytes, utf8, wipe, xchacha, XCHACHA_NONCE_BYTES } from '../crypto/primitives.js'
import type { Storage } from '../io/storage.js'
import { errors } from '../errors.js'
import { MAX_REQUEST_WRITES } from './constants.js'
import { hex } from './context.js'
import type { PendingRequest } from './requests.js'

export const REQUEST_FILE_VERSION = 1
const SALT = utf8.encode('dmess/messaging-state')
const KEY_INFO = utf8.encode('dmess/messaging-state/request-key')
const NAME_INFO = utf8.encode('dmess/messaging-state/request-name')
const AAD_PREFIX = 'dmess/request/v1/'
const SUFFIX = '.req'
/** 128 bits of HMAC-SHA256: no two fingerprints collide in practice. */
const NAME_HEX_CHARS = 32

const packr = /* @__PURE__ */ new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false })

interface Slot { running: Promise<void>, waiting: { promise: Promise<void>, resolve: () => void, reject: (e: Error) => void } | null }

export class RequestFiles {
  readonly #key: Uint8Array
  readonly #nameKey: Uint8Array
  readonly #slots = new Map<string, Slot>()
  readonly #all = new Set<Promise<void>>()
  #active = 0
  readonly #queue: Array<() => void> = []
  #closed = false
  /** files written (or removed) since start: one per coalesced batch of changes */
  writes = 0
  failures = 0

  constructor (
    readonly dir: string,
    dhSecret: Uint8Array,
    private readonly storage: Storage,
    private readonly onError: (err: Error) => void = () => {},
    private readonly now: () => number = Date.now
  ) {
    this.#key = hkdfSha256(dhSecret, SALT, KEY_INFO, 32)
    this.#nameKey = hkdfSha256(dhSecret, SALT, NAME_INFO, 32)
  }

  /** Every request on disk; a file that does not open is moved aside (and reported), never deleted. */
  async loadAll (): Promise<PendingRequest[]> {
    const out: PendingRequest[] = []
    for (const name of await this.storage.list(this.dir)) {
      const path = `${this.dir}/${name}`
      if (name.startsWith('.') && name.endsWith('.tmp')) { await this.storage.remove(path).catch(() => {}); continue } // an interrupted write
      if (!name.endsWith(SUFFIX)) continue
      const bytes = await this.storage.readFile(path).catch(() => null)
      const r = bytes === null ? null : this.#open(name, bytes)
      if (r !== null && this.nameOf(r.fingerprint) === name) { out.push(r); continue }
      const aside = `${path}.unreadable-${this.now()}`
      await this.storage.rename(path, aside).catch(() => {})
      this.onError(new Error(`${path} did not open (another identity, or damaged); moved to ${aside}`))
    }
    return out
  }

  nameOf (fp: string): string {
    return hex(hmac('sha256', this.#nameKey, utf8.encode(fp))).slice(0, NAME_HEX_CHARS) + SUFFIX
  }

  /**
   * Brings `fp`'s file in line with `current()` (absent: the file goes). Resolves once a write
   * that started after this call is durable, so what the caller changed before calling is on disk.
   */
  async save (fp: string, current: () => PendingRequest | undefined): Promise<void> {
    if (this.#closed) throw errors.DAEMON_FAILED('the request files are closed')
    const slot = this.#slots.get(fp)
    if (slot === undefined) {
      const s: Slot = { running: Promise.resolve(), waiting: null }
      this.#slots.set(fp, s)
      s.running = this.#track(this.#run(fp, s, current))
      return await s.running
    }
    if (slot.waiting === null) {
      let resolve!: () => void
      let reject!: (e: Error) => void
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
      slot.waiting = { promise, resolve, reject }
    }
    return await slot.waiting.promise
  }

  /** Resolves once what is on its way to `fp`'s file is durable (at once when nothing is). */
  async settled (fp: string): Promise<void> {
    const slot = this.#slots.get(fp)
    if (slot !== undefined) await (slot.waiting?.promise ?? slot.running)
  }

  /** Waits for every write queued so far. */
  async flush (): Promise<void> {
    while (this.#all.size > 0) await Promise.allSettled([...this.#all])
  }

  close (): void {
    this.#closed = true
    wipe(this.#key, this.#nameKey)
  }

  async #track (p: Promise<void>): Promise<void> {
    this.#all.add(p)
    try { await p } finally { this.#all.delete(p) }
  }

  /** Writes until no change is waiting for this request, then frees its slot. */
  async #run (fp: string, slot: Slot, current: () => PendingRequest | undefined): Promise<void> {
    try {
      await this.#write(fp, current)
    } finally {
      const next = slot.waiting
      slot.waiting = null
      if (next === null) this.#slots.delete(fp)
      else {
        slot.running = this.#track(this.#run(fp, slot, current))
        slot.running.then(next.resolve, next.reject)
      }
    }
  }

  async #write (fp: string, current: () => PendingRequest | undefined): Promise<void> {
    await this.#turn()
    try {
      const r = current() // as it is now: every change made while this write waited for its turn
      const name = this.nameOf(fp)
      const path = `${this.dir}/${name}`
      if (r === undefined) await this.storage.remove(path)
      else await this.storage.writeFileAtomic(path, this.#seal(name, r))
      this.writes++
    } catch (err) {
      this.failures++
      this.onError(err as Error)
      throw err
    } finally {
      this.#active--
      this.#queue.shift()?.()
    }
  }

  /** At most MAX_REQUEST_WRITES files are being written at once. */
  async #turn (): Promise<void> {
    if (this.#active >= MAX_REQUEST_WRITES) await new Promise<void>(resolve => this.#queue.push(resolve))
    this.#active++
  }

  #seal (name: string, r: PendingRequest): Uint8Array {
    const body = packr.pack({ v: REQUEST_FILE_VERSION, ...r })
    const nonce = randomBytes(XCHACHA_NONCE_BYTES)
    const ct = xchacha.seal(this.#key, nonce, body, utf8.encode(AAD_PREFIX + name))
    const out = new Uint8Array(nonce.length + ct.length)
    out.set(nonce, 0)
    out.set(ct, nonce.length)
    return out
  }

  #open (name: string, bytes: Uint8Array): PendingRequest | null {
    if (bytes.length <= XCHACHA_NONCE_BYTES) return null
    const body = xchacha.open(this.#key, bytes.subarray(0, XCHACHA_NONCE_BYTES), bytes.subarray(XCHACHA_NONCE_BYTES), utf8.encode(AAD_PREFIX + name))
    if (body === null) return null
    try {
      const { v, ...r } = packr.unpack(body) as PendingRequest & { v?: number }
      if (v !== REQUEST_FILE_VERSION || typeof r.fingerprint !== 'string' || !Array.isArray(r.held)) return null
      return copyRequest(r)
    } catch {
      return null
    }
  }
}

/** msgpackr hands out views into the decoded buffer: copy the keys out. */
export function copyRequest (r: PendingRequest): PendingRequest {
  return {
    ...r,
    identity: { signPublic: new Uint8Array(r.identity.signPublic), dhPublic: new Uint8Array(r.identity.dhPublic), dhSignature: new Uint8Array(r.identity.dhSignature) },
    requestIds: Array.isArray(r.requestIds) ? [...r.requestIds] : [],
    held: r.held.map(h => ({ ...h }))
  }
}
