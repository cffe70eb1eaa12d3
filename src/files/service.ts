// File transfer in the daemon (proto-spec/files.md): transfers kept in the store, FILE frames on
// the messaging service's links, the receiver pulling verified chunks into a partial file, the
// sender keeping its DATA in the link's channel bounded so chat is never stuck behind a file.
// The protocol cores are pure (merkle.ts, receiver-core.ts, state.ts); this file is their I/O.
import { basename } from 'node:path'
import type { Logger } from 'pino'
import { errors } from '../errors.js'
import type { Component } from '../runtime/component.js'
import type { EventBus } from '../runtime/events.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'
import type { Store } from '../store/index.js'
import type { MessagingService } from '../messaging/service.js'
import type { PeerLink } from '../messaging/link.js'
import { encodeFileFrame, fileFrame, FRAME_HEADER_BYTES } from '../messaging/frames.js'
import { CANCEL_REASON_NAMES, CancelReason, CHUNK_SIZE, DATA_OVERHEAD, decodeFileMessage, encodeFileMessage, FileKind, isChunkSize, PROOF_MAX, type FileMessage, type Offer } from './codec.js'
import { chunkCount, chunkLength, HASH_BYTES, HashTree, leafHash } from './merkle.js'
import { ReceiverCore } from './receiver-core.js'
import { nextState, TERMINAL, type TransferEvent } from './state.js'
import { decodeTransfer, encodeTransfer, transferJson, type Transfer, type TransferJson } from './transfer.js'
import { sanitiseName, type FileDisk, type PartialFile, type SourceFile } from './disk.js'
import { constantTimeEqual } from '../crypto/primitives.js'
import { mediaTypeOf } from './media-type.js'

/** chunks a receiver asks for at once (files.md §3.2) */
export const RECEIVE_WINDOW = 32
/** a receiver asks again once this many of its window's chunks have come (files.md §3.2) */
export const REQUEST_BATCH = 8
/** a receiver asks for nothing more while this many verified chunks wait to be written (files.md §3.2) */
export const WRITE_BACKLOG = 64
/**
 * verified chunks are written together once this many bytes of them wait, or WRITE_WAIT_MS after
 * the first of them came (files.md §5.1): each write is a trip to libuv's thread pool (a pool thread
 * woken, the event loop woken back, a promise settled), which cost more than the 32 KiB it moved
 * when chunks were written as each datagram's came (~2 a write)
 */
export const WRITE_RUN_BYTES = 512 * 1024
export const WRITE_WAIT_MS = 20
/** DATA bytes a sender keeps unacknowledged in a link's channel (files.md §3.3) */
export const FILE_INFLIGHT_BYTES = 512 * 1024
/** bytes of chunks a sender reads from its source at once, when that many are queued in a row: what the channel holds (FILE_INFLIGHT_BYTES) */
export const READ_AHEAD_BYTES = 512 * 1024
/** chunks queued per transfer at the sender (files.md §5.4) */
export const SEND_QUEUE_MAX = 1024
/** nothing arrived for this long with chunks asked for: ask again (files.md §3.2) */
export const REQUEST_STALL_MS = 10_000
/** the partial file is synced and the bitmap written after this many chunks, or this long (files.md §5.1) */
export const SYNC_EVERY_CHUNKS = 64
export const SYNC_EVERY_MS = 1000
/** how soon a sender whose DATA fills the channel looks again for room (files.md §3.3) */
export const PUMP_POLL_MS = 2
/** offers waiting for the user, per peer (files.md §5.4) */
export const PENDING_OFFERS_PER_PEER = 64
/** how often ended transfers are looked at for forgetting (files.md §5.3) */
export const PRUNE_EVERY_MS = 60_000
const TICK_MS = 1000
/**
 * With nothing coming in there is no stall to look for (#tick): the tick slows to this, so an
 * idle daemon wakes once a minute rather than every second, and a simulated node idle for 30 days
 * runs 43,200 ticks rather than 2.6 million. The first incoming transfer brings back TICK_MS.
 */
const IDLE_TICK_MS = 60_000

export interface FileServiceOptions {
  messaging: MessagingService
  store: () => Store
  disk: FileDisk
  /** where partial files go: `<home>/files` */
  partialDir: string
  downloadDir: () => string
  /** offers up to this size are accepted without asking (files.md §3.1) */
  autoAcceptBytes: () => number
  /** ... while the contact's accepted, unfinished transfers, the offer included, stay within this many bytes (files.md §3.1) */
  autoAcceptPendingBytes: () => number
  /** ended transfers are forgotten this long after they ended (0: not by age), and beyond this many (files.md §5.3) */
  keepEndedMs: () => number
  keepEnded: () => number
  events: EventBus
  log: Logger
  scheduler: Scheduler
  now: () => number
  randomBytes: (n: number) => Uint8Array
  /** test hook: the sender flips a bit of this chunk index, once (only set by tests, files.md §6) */
  corruptChunk?: number
}

interface Outgoing {
  tree: HashTree | null
  hashing: Promise<void> | null
  queue: number[]
  queued: Set<number>
  pumping: boolean
  poll: TimerHandle | null
  /** the source, open while chunks are being sent; closed when the transfer ends or the daemon stops */
  source: SourceFile | null
  /** the transfer ended or the daemon stops: the source is closed and not opened again */
  closed: boolean
  /**
   * the chunks last read from the source, up to READ_AHEAD_BYTES of them read at once
   * (#readChunk; the DATA encoder copies each out); allocated at the first read
   */
  ahead: Uint8Array | null
  /** which chunks `ahead` holds: aheadCount of them from aheadFirst, aheadBytes bytes in all */
  aheadFirst: number
  aheadCount: number
  aheadBytes: number
  /** the transfer id, as DATA carries it */
  id: Uint8Array
  /** the one buffer every DATA frame of this transfer is encoded into (the channel copies it); allocated at the first */
  frame: Uint8Array | null
  /**
   * the chunks sent at least once, a bit each: a chunk is checked against its leaf only when it
   * is sent again (files.md §3.2); allocated at the first chunk sent
   */
  sent: Uint8Array | null
}
interface Incoming {
  /** bytes of the chunks the stored record holds: synced to disk and recorded, what survives a crash */
  savedBytes: number
  core: ReceiverCore | null
  partial: PartialFile | null
  writes: Promise<void>
  unsynced: number
  /**
   * the chunks whose write has returned: what a sync may record (files.md §5.1). `core` marks a
   * chunk held when it verifies, before its write, so that it is not asked again; a write that
   * then fails (a full disk, files.md §4.1) must not reach the record
   */
  written: ReceiverCore
  syncTimer: TimerHandle | null
  lastDataAt: number
  finishing: boolean
  /**
   * the record held chunks when this was made: written by an earlier process (a restart, kill -9)
   * or before a full disk stopped the transfer, and on the disk unwatched since, so the finish
   * reads the file back and checks it against the root (files.md §5.2). Chunks verified and
   * written since it was made are not read back.
   */
  inherited: boolean
  /** a local error is ending the transfer: nothing more is written or asked for */
  failing: boolean
  /** verified chunks whose write has not returned yet */
  backlog: number
  /** the sync queued behind the writes and not started yet (#sync) */
  syncQueued: Promise<void> | null
  /**
   * the last sync queued or running, settled: writes do not wait for a sync (#sync), so what
   * closes the partial file or syncs it last waits for this as well as for `writes`
   */
  syncing: Promise<void>
  /** verified chunks waiting to be written (#queueWrite), and their bytes */
  pending: Array<{ index: number, data: Uint8Array }>
  pendingBytes: number
  /** a write of what is pending is in the chain and has not started: chunks that come meanwhile go with it */
  writeQueued: boolean
  /** writes what is pending though it is less than WRITE_RUN_BYTES (armed when a chunk waits) */
  writeTimer: TimerHandle | null
}

export class FileService implements Component {
  readonly name = 'files'
  readonly #transfers = new Map<string, Transfer>()
  readonly #out = new Map<string, Outgoing>()
  readonly #in = new Map<string, Incoming>()
  #timer: TimerHandle | null = null
  #running = false
  #corrupt: number | undefined
  /** offers being auto-accepted (their record is being written): they count as pending already */
  readonly #autoAccepting = new Set<string>()
  #prunedAt = 0
  /** FILE bodies that did not decode */
  malformed = 0
  /** DATA for chunks not asked for, of unknown transfers, or of the wrong length */
  unexpected = 0
  /** DATA the link's channel could not take at once (sends waiting for room ahead of it): queued again for a later pump */
  refused = 0

  constructor (readonly opts: FileServiceOptions) {
    this.#corrupt = opts.corruptChunk
  }

  async start (): Promise<void> {
    for (const r of await this.opts.store().listTransfers()) {
      const t = decodeTransfer(r.value)
      this.#transfers.set(t.id, t)
      if (TERMINAL.has(t.state)) continue
      if (t.direction === 'out') this.#outgoing(t)
      else if (t.state === 'active') {
        const inc = this.#incoming(t)
        if ((inc.core as ReceiverCore).complete) this.#finish(t, inc) // every chunk synced before a crash
      }
    }
    // a crash after a finished file was recorded, before its partial file went
    for (const t of this.#transfers.values()) if (t.direction === 'in' && t.state === 'done') await this.opts.disk.removeFile(this.#partialPath(t)).catch(() => {})
    await this.#prune()
    this.#running = true
    this.opts.messaging.fileHandler = {
      frame: (link, body) => { this.#onFrame(link, body) },
      linkUp: link => { this.#linkUp(link) },
      linkDown: link => { this.#linkDown(link) },
      linkReplaced: link => { this.#linkReplaced(link) }
    }
    this.#arm()
    // links that came up before us
    for (const t of this.#transfers.values()) {
      const link = this.#link(t.peer)
      if (link !== undefined && !TERMINAL.has(t.state)) this.#resume(t, link)
    }
  }

  async stop (): Promise<void> {
    this.#running = false
    this.opts.messaging.fileHandler = null
    if (this.#timer !== null) this.opts.scheduler.clearTimer(this.#timer)
    this.#timer = null
    for (const out of this.#out.values()) {
      if (out.poll !== null) this.opts.scheduler.clearTimer(out.poll)
      out.poll = null
      out.queue = []
      await this.#closeSource(out)
    }
    for (const [id, inc] of this.#in) {
      const t = this.#transfers.get(id)
      if (inc.syncTimer !== null) this.opts.scheduler.clearTimer(inc.syncTimer)
      inc.syncTimer = null
      if (t !== undefined) this.#startWrites(t, inc, true) // the chunks verified and waiting for a run: written, then synced below
      if (inc.writeTimer !== null) this.opts.scheduler.clearTimer(inc.writeTimer)
      inc.writeTimer = null
      if (t !== undefined) await this.#sync(t, inc).catch(() => {})
      await inc.writes.catch(() => {})
      await inc.syncing
      await inc.partial?.close().catch(() => {})
      inc.partial = null
    }
  }

  // ---- what users do (IPC files.*) ----

  /** Whether `path` can be sent: a file that exists (a directory is refused with a clear message). */
  async check (path: string): Promise<{ size: number }> {
    const info = await this.opts.disk.statSource(path)
    if (info === null) throw errors.BAD_ARGUMENT(`no such file: ${path}`)
    if (info.isDirectory) throw errors.BAD_ARGUMENT(`${path} is a directory: send the files in it, or an archive of it`)
    return info
  }

  /** Offers a file to a contact: hashed, recorded, offered when (and whenever) a link is up. */
  async send (peer: string, path: string): Promise<TransferJson> {
    if (!this.opts.messaging.ctx.contacts.has(peer)) throw errors.CONTACT_NOT_FOUND(`${peer} is not a contact`)
    const info = await this.check(path)
    const name = sanitiseName(basename(path))
    const now = this.opts.now()
    const t: Transfer = {
      id: Buffer.from(this.opts.randomBytes(16)).toString('hex'),
      direction: 'out', peer, name, size: info.size, mediaType: mediaTypeOf(name), root: new Uint8Array(32), chunkSize: CHUNK_SIZE,
      state: 'offered', createdAt: now, updatedAt: now, source: path, chunkBytes: 0, badChunks: 0, duplicateChunks: 0
    }
    const out = this.#outgoing(t)
    await out.hashing
    if (out.tree === null) throw errors.BAD_ARGUMENT(`could not read ${path}`)
    t.root = out.tree.root
    this.#transfers.set(t.id, t)
    await this.#save(t)
    this.#emit(t)
    const link = this.#link(peer)
    if (link !== undefined) this.#send(link, this.#offer(t))
    return this.json(t)
  }

  list (): TransferJson[] {
    return [...this.#transfers.values()].sort((a, b) => a.createdAt - b.createdAt).map(t => this.json(t))
  }

  get (id: string): TransferJson {
    return this.json(this.#need(id))
  }

  async accept (id: string): Promise<TransferJson> {
    const t = this.#need(id)
    if (t.direction !== 'in' || t.state !== 'offered') throw errors.BAD_ARGUMENT(`transfer ${id} is ${t.direction === 'out' ? 'outgoing' : t.state}: only an incoming offer can be accepted`)
    await this.#acceptIncoming(t)
    return this.json(t)
  }

  async decline (id: string): Promise<TransferJson> {
    const t = this.#need(id)
    if (t.direction !== 'in' || t.state !== 'offered') throw errors.BAD_ARGUMENT(`transfer ${id} is ${t.direction === 'out' ? 'outgoing' : t.state}: only an incoming offer can be declined`)
    await this.#move(t, 'decline')
    this.#sendTo(t.peer, { kind: FileKind.DECLINE, id: idBytes(t.id) })
    return this.json(t)
  }

  /** Takes up a transfer that stopped on a full disk, from the chunks it holds (files.md §4.1). */
  async resume (id: string): Promise<TransferJson> {
    const t = this.#need(id)
    if (!this.#resumable(t)) throw errors.BAD_ARGUMENT(`transfer ${id} is ${t.direction === 'out' ? 'outgoing' : t.state}${t.reason === undefined ? '' : ` (${t.reason})`}: only an incoming transfer stopped by a full disk can be resumed`)
    delete t.reason
    await this.#move(t, 'resume')
    const inc = this.#incoming(t)
    const link = this.#link(t.peer)
    if (link !== undefined) this.#send(link, { kind: FileKind.ACCEPT, id: idBytes(t.id) })
    if ((inc.core as ReceiverCore).complete) this.#finish(t, inc) // it stopped while placing the file
    else if (link !== undefined) this.#request(t, link)
    return this.json(t)
  }

  async cancel (id: string): Promise<TransferJson> {
    const t = this.#need(id)
    if (TERMINAL.has(t.state)) throw errors.BAD_ARGUMENT(`transfer ${id} is already ${t.state}`)
    await this.#end(t, 'cancel')
    this.#sendTo(t.peer, { kind: FileKind.CANCEL, id: idBytes(t.id), reason: CancelReason.USER })
    return this.json(t)
  }

  json (t: Transfer): TransferJson {
    const done = t.state === 'done'
      ? t.size
      : t.direction === 'in' ? this.#heldBytes(t) : Math.min(t.size, t.chunkBytes)
    return transferJson(t, done, t.direction === 'in' && t.state !== 'done' ? this.#savedBytes(t) : done)
  }

  /** What a receiver's stored record holds (synced and recorded): what a crash now would leave. */
  #savedBytes (t: Transfer): number {
    const inc = this.#in.get(t.id)
    // an active transfer's record is written after its bitmap is set (#sync); an ended one's is written
    if (inc !== undefined && t.state === 'active') return inc.savedBytes
    return t.bitmap === undefined ? 0 : new ReceiverCore(t.size, t.chunkSize, t.root, t.bitmap).haveBytes
  }

  /** What a receiver holds: its live bitmap, or, before the link is back after a restart, the stored one. */
  #heldBytes (t: Transfer): number {
    const inc = this.#in.get(t.id)
    // while a full disk ends it, the record's bitmap, not the chunks that verified but were not written
    const core = inc?.failing === true ? null : inc?.core
    if (core !== null && core !== undefined) return core.haveBytes
    return t.bitmap === undefined ? 0 : new ReceiverCore(t.size, t.chunkSize, t.root, t.bitmap).haveBytes
  }

  // ---- frames ----

  #onFrame (link: PeerLink, body: Uint8Array): void {
    const m = decodeFileMessage(body)
    if (m === null) { this.malformed++; return }
    const fp = link.fingerprint
    const id = Buffer.from(m.id).toString('hex')
    if (m.kind === FileKind.OFFER) { void this.#onOffer(link, id, m).catch(err => this.#warn(err, 'offer')); return }
    const t = this.#transfers.get(id)
    // another peer's transfer of the same id is none of this peer's business
    if (t === undefined || t.peer !== fp) {
      if (m.kind === FileKind.REQUEST) this.#send(link, { kind: FileKind.CANCEL, id: m.id, reason: CancelReason.UNKNOWN })
      else if (m.kind === FileKind.DATA) this.unexpected++
      return
    }
    this.#handle(link, t, m).catch(err => this.#warn(err, 'file message'))
  }

  async #handle (link: PeerLink, t: Transfer, m: Exclude<FileMessage, Offer>): Promise<void> {
    switch (m.kind) {
      case FileKind.ACCEPT:
        if (t.direction === 'out' && t.state === 'offered') await this.#move(t, 'accept')
        else await this.#peerResumed(t)
        return
      case FileKind.DECLINE:
        if (t.direction === 'out') await this.#move(t, 'decline')
        return
      case FileKind.DONE:
        if (t.direction === 'out') await this.#end(t, 'complete')
        return
      case FileKind.CANCEL:
        if (TERMINAL.has(t.state)) return
        if (m.reason === CancelReason.USER) await this.#end(t, 'cancel')
        else await this.#end(t, 'fail', `peer: ${CANCEL_REASON_NAMES[m.reason] ?? `reason ${m.reason}`}`)
        return
      case FileKind.REQUEST: {
        if (t.direction !== 'out') return
        // Only a move is awaited: a REQUEST for an active transfer is queued in this turn, so a
        // CANCEL right behind it on the link finds the chunks queued and ends them, rather than
        // ending the transfer first and the REQUEST then finding it failed (files.md §4.1)
        if (t.state === 'offered') await this.#move(t, 'accept')
        else if (t.state === 'failed') await this.#peerResumed(t)
        if (t.state !== 'active') {
          // the peer ended it (its CANCEL came before): it knows, and an answer here would reach
          // it after it may have resumed, and end the resumed transfer
          if (t.reason?.startsWith('peer: ') === true) return
          this.#send(link, { kind: FileKind.CANCEL, id: m.id, reason: t.state === 'cancelled' ? CancelReason.USER : CancelReason.UNKNOWN })
          return
        }
        const out = this.#outgoing(t)
        const n = chunkCount(t.size, t.chunkSize)
        for (const r of m.ranges) {
          for (let i = r.first; i < r.first + r.count && i < n; i++) {
            if (out.queue.length >= SEND_QUEUE_MAX) break
            if (!out.queued.has(i)) { out.queued.add(i); out.queue.push(i) }
          }
        }
        this.#pump(t)
        return
      }
      case FileKind.DATA: {
        if (t.direction !== 'in' || t.state !== 'active') { this.unexpected++; return }
        const inc = this.#incoming(t)
        if (inc.failing) { this.unexpected++; return }
        const core = inc.core as ReceiverCore
        inc.lastDataAt = this.opts.now()
        t.chunkBytes += m.data.length
        const verdict = core.onData(m.index, m.data, m.proof)
        if (verdict === 'verified') {
          core.markHave(m.index) // held from now: never asked again (written below, or the transfer fails)
          // the message is the channel's own allocation, never reused (transport/reliable/recv-stream.ts): no copy
          this.#queueWrite(t, inc, m.index, m.data)
          if (core.complete) this.#finish(t, inc)
        } else if (verdict === 'bad-proof') t.badChunks++
        else if (verdict === 'duplicate') t.duplicateChunks++
        else this.unexpected++
        this.#askMore(t, inc, link)
      }
    }
  }

  /**
   * Asks for more chunks in batches, not one REQUEST frame per chunk: at least RECEIVE_WINDOW -
   * REQUEST_BATCH chunks stay asked for, more than the sender keeps in flight; and not while
   * WRITE_BACKLOG chunks wait for the disk, so a disk slower than the link (an fsync under way)
   * holds memory to that, not to the whole file (files.md §3.2).
   */
  #askMore (t: Transfer, inc: Incoming, link = this.#link(t.peer)): void {
    const core = inc.core
    if (link === undefined || core === null || core.complete || inc.backlog >= WRITE_BACKLOG) return
    if (RECEIVE_WINDOW - core.inFlight >= REQUEST_BATCH) this.#request(t, link)
  }

  /** The receiver resumed a transfer it had stopped on a full disk: serve it again (files.md §4.1). */
  async #peerResumed (t: Transfer): Promise<void> {
    if (t.direction !== 'out' || t.state !== 'failed' || t.reason !== `peer: ${CANCEL_REASON_NAMES[CancelReason.DISK_FULL] as string}`) return
    delete t.reason
    if (await this.#move(t, 'resume')) this.#outgoing(t) // the source read again and checked against the root
  }

  async #onOffer (link: PeerLink, id: string, m: Offer): Promise<void> {
    const fp = link.fingerprint
    const known = this.#transfers.get(id)
    if (known !== undefined) {
      if (known.peer !== fp || known.direction !== 'in') { this.#send(link, { kind: FileKind.CANCEL, id: m.id, reason: CancelReason.REFUSED }); return }
      this.#answer(link, known)
      return
    }
    // strangers cannot push files (files.md §3.1)
    if (!this.opts.messaging.ctx.contacts.has(fp) || !isChunkSize(m.chunkSize)) { this.#send(link, { kind: FileKind.CANCEL, id: m.id, reason: CancelReason.REFUSED }); return }
    const waiting = [...this.#transfers.values()].filter(t => t.peer === fp && t.direction === 'in' && t.state === 'offered').length
    if (waiting >= PENDING_OFFERS_PER_PEER) { this.#send(link, { kind: FileKind.DECLINE, id: m.id }); return }
    const now = this.opts.now()
    const t: Transfer = {
      id, direction: 'in', peer: fp, name: sanitiseName(m.name), size: m.size, mediaType: m.mediaType, root: m.root.slice(), chunkSize: m.chunkSize,
      state: 'offered', createdAt: now, updatedAt: now, chunkBytes: 0, badChunks: 0, duplicateChunks: 0, bitmap: new Uint8Array(0)
    }
    // decided before anything is awaited, so offers that arrive together are counted one by one
    const auto = m.size <= this.opts.autoAcceptBytes() && this.#pendingBytes(fp) + m.size <= this.opts.autoAcceptPendingBytes()
    if (auto) this.#autoAccepting.add(id)
    this.#transfers.set(id, t)
    try {
      await this.#save(t)
      this.#emit(t)
      if (auto) await this.#acceptIncoming(t)
    } finally { this.#autoAccepting.delete(id) }
  }

  /**
   * Bytes accepted from `fp` and not yet received whole: the size of each of its incoming
   * transfers that is active (or being auto-accepted). Auto-accepting stops where this would pass
   * autoAcceptPendingBytes, so a contact cannot fill the disk with many small files (files.md §3.1).
   */
  #pendingBytes (fp: string): number {
    let n = 0
    for (const t of this.#transfers.values()) {
      if (t.peer === fp && t.direction === 'in' && (t.state === 'active' || this.#autoAccepting.has(t.id))) n += t.size
    }
    return n
  }

  /** A repeated offer of a transfer we know: say where we stand (files.md §3.1). */
  #answer (link: PeerLink, t: Transfer): void {
    const id = idBytes(t.id)
    switch (t.state) {
      case 'offered': return // the user has not answered yet
      case 'active':
        this.#send(link, { kind: FileKind.ACCEPT, id })
        this.#request(t, link)
        return
      case 'done': this.#send(link, { kind: FileKind.DONE, id }); return
      case 'declined': this.#send(link, { kind: FileKind.DECLINE, id }); return
      case 'cancelled': this.#send(link, { kind: FileKind.CANCEL, id, reason: CancelReason.USER }); return
      case 'failed': this.#send(link, { kind: FileKind.CANCEL, id, reason: reasonCode(t.reason) })
    }
  }

  async #acceptIncoming (t: Transfer): Promise<void> {
    await this.#move(t, 'accept')
    const inc = this.#incoming(t)
    const link = this.#link(t.peer)
    if (link !== undefined) this.#send(link, { kind: FileKind.ACCEPT, id: idBytes(t.id) })
    if ((inc.core as ReceiverCore).complete) { this.#finish(t, inc); return } // the empty file
    if (link !== undefined) this.#request(t, link)
  }

  #linkUp (link: PeerLink): void {
    if (!this.#running) return
    for (const t of this.#transfers.values()) if (t.peer === link.fingerprint && !TERMINAL.has(t.state)) this.#resume(t, link)
  }

  #resume (t: Transfer, link: PeerLink): void {
    if (t.direction === 'out') {
      // A new link may replace one that never reported going down (a restarted peer dials anew
      // while our old session lingers): what the old link's receiver asked for and we had not yet
      // sent is stale, since the receiver asks again on every link that comes up (files.md §3.2).
      const out = this.#out.get(t.id)
      if (out !== undefined) { out.queue = []; out.queued.clear() }
      this.#send(link, this.#offer(t))
      return
    }
    if (t.state !== 'active') return
    const inc = this.#incoming(t)
    if (inc.failing) return
    this.#send(link, { kind: FileKind.ACCEPT, id: idBytes(t.id) })
    this.#request(t, link)
  }

  /**
   * A newer link to the peer took this one's place while it was open (crossed dials, a restarted
   * peer dialling anew): what we asked for over it and did not get is lost with it, so it is
   * asked again over the current link. Not at the new link's coming up: chunks still arriving
   * over the old one would then come twice (files.md §3.2).
   */
  #linkReplaced (old: PeerLink): void {
    if (!this.#running) return
    const link = this.#link(old.fingerprint)
    for (const t of this.#transfers.values()) {
      if (t.peer !== old.fingerprint || t.direction !== 'in' || t.state !== 'active') continue
      this.#in.get(t.id)?.core?.forgetRequests()
      if (link !== undefined) this.#request(t, link)
    }
  }

  #linkDown (link: PeerLink): void {
    for (const t of this.#transfers.values()) {
      if (t.peer !== link.fingerprint) continue
      const out = this.#out.get(t.id)
      if (out !== undefined) { out.queue = []; out.queued.clear() } // the receiver asks again
      this.#in.get(t.id)?.core?.forgetRequests()
    }
  }

  // ---- receiving ----

  #request (t: Transfer, link: PeerLink): void {
    const inc = this.#in.get(t.id)
    const core = inc?.core
    if (core === null || core === undefined || t.state !== 'active' || inc?.failing === true) return
    const ranges = core.nextRequest(RECEIVE_WINDOW)
    if (ranges.length > 0) this.#send(link, { kind: FileKind.REQUEST, id: idBytes(t.id), ranges })
  }

  /**
   * A verified chunk waits for the disk with the others: they are written together once
   * WRITE_RUN_BYTES of them wait, WRITE_WAIT_MS after the first came, or at once when it is the
   * last the file lacks (files.md §5.1). Until its write returns it counts in the backlog, which
   * stops the requests at WRITE_BACKLOG (files.md §3.2).
   */
  #queueWrite (t: Transfer, inc: Incoming, index: number, data: Uint8Array): void {
    inc.backlog++
    inc.pending.push({ index, data })
    inc.pendingBytes += data.length
    this.#startWrites(t, inc, (inc.core as ReceiverCore).complete)
  }

  /**
   * Puts a write of every chunk pending into the chain, when a run's worth waits or `now`;
   * otherwise arms the timer that writes them anyway. One write waits in the chain at most: it
   * takes every chunk pending when it starts, those that came after it was queued too.
   */
  #startWrites (t: Transfer, inc: Incoming, now: boolean): void {
    if (inc.pending.length === 0 || inc.failing) return
    if (!now && inc.pendingBytes < WRITE_RUN_BYTES) {
      inc.writeTimer ??= this.opts.scheduler.setTimer(WRITE_WAIT_MS, () => {
        inc.writeTimer = null
        if (this.#in.get(t.id) === inc && t.state === 'active') this.#startWrites(t, inc, true)
      })
      return
    }
    if (inc.writeTimer !== null) this.opts.scheduler.clearTimer(inc.writeTimer)
    inc.writeTimer = null
    if (inc.writeQueued) return
    inc.writeQueued = true
    const write = inc.writes.then(async () => {
      inc.writeQueued = false
      const n = await this.#writePending(t, inc)
      inc.backlog -= n // room in the backlog, maybe for more requests
      this.#askMore(t, inc)
      if (inc.core?.complete === true) return // #finish syncs last
      if (inc.unsynced >= SYNC_EVERY_CHUNKS) void this.#sync(t, inc).catch(err => this.#failLocal(t, err))
      else if (inc.syncTimer === null) {
        inc.syncTimer = this.opts.scheduler.setTimer(SYNC_EVERY_MS, () => { inc.syncTimer = null; void this.#sync(t, inc).catch(err => this.#failLocal(t, err)) })
      }
      this.#startWrites(t, inc, false) // what came during the write: a run's worth, or the timer
    })
    inc.writes = write
    write.catch(err => this.#failLocal(t, err))
  }

  /**
   * Writes the verified chunks pending, each run of consecutive ones with one write (a chunk per
   * write was one trip to the disk's thread pool per 32 KiB), and marks them written. A run whose
   * write fails is written again chunk by chunk, so on a full disk every chunk that fits is still
   * written and kept (files.md §4.1); the first chunk that fails ends the transfer (#failLocal).
   */
  async #writePending (t: Transfer, inc: Incoming): Promise<number> {
    const batch = inc.pending
    if (batch.length === 0) return 0
    inc.pending = []
    inc.pendingBytes = 0
    inc.partial ??= await this.opts.disk.openPartial(this.#partialPath(t))
    const partial = inc.partial
    const done = (index: number): void => { inc.written.markHave(index); inc.unsynced++ }
    for (let i = 0; i < batch.length;) {
      let j = i + 1
      while (j < batch.length && batch[j]?.index === (batch[j - 1]?.index as number) + 1) j++
      const run = batch.slice(i, j)
      i = j
      try {
        await partial.write((run[0]?.index as number) * t.chunkSize, run.map(c => c.data))
      } catch (err) {
        if (run.length === 1) throw err
        for (const c of run) {
          await partial.write(c.index * t.chunkSize, [c.data])
          done(c.index)
        }
        continue
      }
      for (const c of run) done(c.index)
    }
    return batch.length
  }

  /** fsync the partial file, then record what it holds (files.md §5.1: the record never claims more than the disk). */
  async #sync (t: Transfer, inc: Incoming): Promise<void> {
    if (t.state !== 'active' || inc.core === null || inc.failing) return
    // One sync waits at a time: it takes the bitmap when it runs, so it covers every write queued
    // before it. Each chunk written while one waited used to queue another (an fsync and a record
    // of the whole bitmap each: ~0.6 per chunk, not one per SYNC_EVERY_CHUNKS).
    // It runs after the writes queued before it and the sync before it, but the writes queued
    // after it do not wait for it: what it records is what was written when it began, which the
    // fsync covers whatever is written meanwhile. The writes used to wait in its chain, and with
    // WRITE_BACKLOG chunks waiting the receiver stopped asking: the transfer paused for every
    // fsync and synced record (docs/performance.md §10.6)
    if (inc.syncQueued !== null) { await inc.syncQueued; return }
    const sync = Promise.all([inc.writes, inc.syncing]).then(async () => {
      inc.syncQueued = null // a sync asked for from here on is another one, after this
      inc.unsynced = 0
      // what has been written as of now, taken before the fsync below makes it durable
      const bitmap = inc.written.bitmap()
      const bytes = inc.written.haveBytes
      await inc.partial?.sync()
      t.bitmap = bitmap
      // unsynced: the fsync above made the chunks durable; this record can only be lost (a power
      // cut), leaving an older bitmap that claims less, and it does not hold the store's writes
      // (chat's among them) behind a LevelDB fsync every SYNC_EVERY_CHUNKS chunks
      await this.#save(t, false)
      inc.savedBytes = bytes
    })
    inc.syncQueued = sync
    sync.catch(() => { if (inc.syncQueued === sync) inc.syncQueued = null })
    inc.syncing = sync.catch(() => {})
    await sync
  }

  /**
   * Every chunk is held: the partial file is synced, linked into the download directory, recorded
   * done, and only then unlinked: a crash at any step leaves the partial file or the placed one,
   * never neither (files.md §5.2). Before it is placed, a file that already held chunks when the
   * transfer was taken up (`inherited`: an earlier process's, or from before a full disk) is read
   * back whole and checked against the root: the disk may have lost or altered them while nothing
   * watched, and then the file is fetched again, never shown complete. A file whose every chunk
   * was verified and written since is not read back: the bytes written are the bytes verified, and
   * reading them back just after would read the page cache those writes filled (files.md §5.2).
   */
  #finish (t: Transfer, inc: Incoming): void {
    if (inc.finishing) return
    inc.finishing = true
    if (inc.syncTimer !== null) this.opts.scheduler.clearTimer(inc.syncTimer)
    inc.syncTimer = null
    const partial = this.#partialPath(t)
    const done = Promise.all([inc.writes, inc.syncing]).then(async () => {
      inc.partial ??= await this.opts.disk.openPartial(partial) // the empty file has no chunk
      await inc.partial.sync()
      t.bitmap = inc.written.bitmap() // all held and synced: a full disk at placing resumes from here
      await inc.partial.close()
      inc.partial = null
      if (inc.inherited && !await this.#readBackMatches(t, partial)) {
        this.opts.log.warn({ transfer: t.id }, 'partial file does not match the root: fetching it again')
        await this.opts.disk.removeFile(partial)
        inc.core = new ReceiverCore(t.size, t.chunkSize, t.root)
        inc.written = new ReceiverCore(t.size, t.chunkSize, t.root)
        inc.inherited = false // every chunk is fetched, verified and written again by this process
        t.bitmap = new Uint8Array(0)
        await this.#save(t)
        inc.finishing = false
        const link = this.#link(t.peer)
        if (link !== undefined) this.#request(t, link)
        return
      }
      t.path = await this.opts.disk.place(partial, this.opts.downloadDir(), t.name)
      t.bitmap = (inc.core as ReceiverCore).bitmap()
      await this.#end(t, 'complete')
      await this.opts.disk.removeFile(partial)
      this.#sendTo(t.peer, { kind: FileKind.DONE, id: idBytes(t.id) })
    })
    inc.writes = done.catch(() => {})
    done.catch(err => this.#failLocal(t, err))
  }

  /** The finished partial file, read back whole: whether it is the offered file (its size, and its root in constant time). */
  async #readBackMatches (t: Transfer, partial: string): Promise<boolean> {
    const { size, leaves, above } = await this.opts.disk.hashLeaves(partial, t.chunkSize)
    return size === t.size && constantTimeEqual(new HashTree(leaves, above).root, t.root)
  }


  /**
   * A local write or read error: the transfer fails, the peer is told why. A full disk keeps what
   * was written (synced, recorded) and the partial file, so the user can free space and resume
   * (files.md §4.1); any other error ends the transfer.
   */
  #failLocal (t: Transfer, err: unknown): void {
    if (TERMINAL.has(t.state)) return
    const inc = this.#in.get(t.id)
    if (inc?.failing === true) return // one error reported per transfer: every chained write fails with it
    if (inc !== undefined) inc.failing = true
    const code = (err as NodeJS.ErrnoException).code
    const reason = code === 'ENOSPC' || code === 'EDQUOT' ? CancelReason.DISK_FULL : code === 'SOURCE_CHANGED' ? CancelReason.SOURCE_CHANGED : CancelReason.IO
    this.opts.log.warn({ transfer: t.id, err: (err as Error).message }, reason === CancelReason.DISK_FULL ? 'file transfer stopped: disk full (free space, then `dmess files resume`)' : 'file transfer failed')
    this.#sendTo(t.peer, { kind: FileKind.CANCEL, id: idBytes(t.id), reason })
    const kept = reason === CancelReason.DISK_FULL && inc !== undefined ? this.#keepWritten(t, inc) : Promise.resolve()
    void kept.then(async () => { await this.#end(t, 'fail', CANCEL_REASON_NAMES[reason]) }).catch(e => this.#warn(e, 'transfer record'))
  }

  /**
   * The disk is full: every chunk whose write returned is synced and recorded, so nothing
   * received is lost (files.md §4.1). A sync that fails too leaves the last synced bitmap: those
   * chunks are asked again on resume.
   */
  async #keepWritten (t: Transfer, inc: Incoming): Promise<void> {
    if (inc.syncTimer !== null) this.opts.scheduler.clearTimer(inc.syncTimer)
    inc.syncTimer = null
    await inc.writes.catch(() => {})
    await inc.syncing
    const bitmap = inc.written.bitmap()
    try {
      await inc.partial?.sync()
      t.bitmap = bitmap
    } catch (err) { this.#warn(err, 'sync on a full disk') }
  }

  /** A transfer that stopped on a full disk, whose partial file is kept for a resume (files.md §4.1). */
  #resumable (t: Transfer): boolean {
    return t.direction === 'in' && t.state === 'failed' && t.reason === CANCEL_REASON_NAMES[CancelReason.DISK_FULL]
  }

  #incoming (t: Transfer): Incoming {
    let inc = this.#in.get(t.id)
    if (inc === undefined) {
      const written = new ReceiverCore(t.size, t.chunkSize, t.root, t.bitmap)
      inc = { savedBytes: written.haveBytes, core: null, partial: null, writes: Promise.resolve(), unsynced: 0, written, syncTimer: null, lastDataAt: this.opts.now(), finishing: false, inherited: written.haveCount > 0, failing: false, backlog: 0, syncQueued: null, syncing: Promise.resolve(), pending: [], pendingBytes: 0, writeQueued: false, writeTimer: null }
      this.#in.set(t.id, inc)
      if (this.#in.size === 1 && this.#timer !== null) { // the tick may be at the idle pace
        this.opts.scheduler.clearTimer(this.#timer)
        this.#timer = null
        this.#arm()
      }
    }
    inc.core ??= new ReceiverCore(t.size, t.chunkSize, t.root, t.bitmap)
    return inc
  }

  #partialPath (t: Transfer): string { return `${this.opts.partialDir}/${t.id}.part` }

  // ---- sending ----

  #offer (t: Transfer): FileMessage {
    return { kind: FileKind.OFFER, id: idBytes(t.id), size: t.size, chunkSize: t.chunkSize, root: t.root, name: t.name, mediaType: t.mediaType }
  }

  /** The sender's runtime state; the tree is built by reading the source once (files.md §2). */
  #outgoing (t: Transfer): Outgoing {
    let out = this.#out.get(t.id)
    if (out !== undefined) return out
    const o: Outgoing = { tree: null, hashing: null, queue: [], queued: new Set(), pumping: false, poll: null, source: null, closed: false, ahead: null, aheadFirst: 0, aheadCount: 0, aheadBytes: 0, id: idBytes(t.id), frame: null, sent: null }
    this.#out.set(t.id, o)
    o.hashing = (async () => {
      const { size, leaves, above } = await this.opts.disk.hashLeaves(t.source as string, t.chunkSize)
      const tree = new HashTree(leaves, above)
      // a recorded transfer whose source no longer has its root cannot go on
      if (t.state !== 'offered' || this.#transfers.has(t.id)) {
        if (size !== t.size || !constantTimeEqual(tree.root, t.root)) throw Object.assign(new Error(`${t.source as string} changed since it was offered`), { code: 'SOURCE_CHANGED' })
      } else t.size = size
      o.tree = tree
    })().catch(err => {
      if (this.#transfers.has(t.id)) this.#failLocal(t, (err as NodeJS.ErrnoException).code === 'SOURCE_CHANGED' ? err : Object.assign(err as Error, { code: 'SOURCE_CHANGED' }))
    }).then(() => { o.hashing = null; this.#pump(t) })
    out = o
    return out
  }

  /** Writes queued chunks while the link's channel holds less than FILE_INFLIGHT_BYTES (files.md §3.3). */
  #pump (t: Transfer): void {
    const out = this.#out.get(t.id)
    if (out === undefined || out.pumping || out.tree === null || t.state !== 'active') return
    const link = this.#link(t.peer)
    if (link === undefined || out.queue.length === 0) return
    out.pumping = true
    const tree = out.tree
    let refused = false
    const run = async (): Promise<void> => {
      while (!out.closed && out.queue.length > 0 && t.state === 'active' && !link.closed && link.rs.sendBufferedBytes < FILE_INFLIGHT_BYTES) {
        const index = out.queue.shift() as number
        out.queued.delete(index)
        let data = await this.#readChunk(t, out, index)
        // Hashed once already, with the whole file before the offer: a chunk is hashed again only
        // when it is sent again. A source changed since gives the receiver a chunk that fails its
        // path, which it asks for again (files.md §3.2): that second send finds the change
        const sent = out.sent ??= new Uint8Array(Math.ceil(chunkCount(t.size, t.chunkSize) / 8))
        const bit = 1 << (index & 7)
        const again = ((sent[index >> 3] as number) & bit) !== 0
        if (again && !constantTimeEqual(leafHash(data), tree.leaf(index) as Uint8Array)) throw Object.assign(new Error(`${t.source as string} changed since it was offered`), { code: 'SOURCE_CHANGED' })
        const corrupt = this.#corrupt === index && data.length > 0
        if (corrupt) {
          data = data.slice()
          data[0] = (data[0] as number) ^ 0x01
        }
        const msg: FileMessage = { kind: FileKind.DATA, id: out.id, index, proof: tree.proof(index), data }
        // encoded into the transfer's one frame buffer: the channel copies what it takes at once,
        // and holds it back as bulk: chat sent while it waits goes ahead of it (files.md §3.3)
        out.frame ??= new Uint8Array(FRAME_HEADER_BYTES + DATA_OVERHEAD + PROOF_MAX * HASH_BYTES + t.chunkSize)
        const frame = fileFrame(headroom => encodeFileMessage(msg, headroom, out.frame as Uint8Array))
        // acknowledged: room in the channel again
        let acked: Promise<void> | null
        try { acked = link.trySend(frame, true) } catch { break } // the link closed during the read: the receiver asks again over the next
        if (acked === null) { // the channel has sends waiting for room ahead of it: try again later
          this.refused++
          out.queue.unshift(index)
          out.queued.add(index)
          refused = true
          break
        }
        acked.then(() => { this.#pump(t) }, () => {})
        if (corrupt) this.#corrupt = undefined
        sent[index >> 3] = (sent[index >> 3] as number) | bit
        t.chunkBytes += data.length
      }
    }
    run().catch(err => this.#failLocal(t, err)).finally(() => {
      out.pumping = false
      if (out.closed) { void this.#dropSource(out); return }
      if (out.queue.length === 0 || link.closed || t.state !== 'active') return
      if (!refused && link.rs.sendBufferedBytes < FILE_INFLIGHT_BYTES) { this.#pump(t); return }
      // the channel tells of acknowledgements only when it is flushed or on the link's 50 ms check:
      // look again soon, so the window refills as the peer acknowledges rather than in bursts
      if (out.poll === null) out.poll = this.opts.scheduler.setTimer(PUMP_POLL_MS, () => { out.poll = null; this.#pump(t) })
    })
  }

  /**
   * Chunk `index` of the source: from the chunks read ahead, or read now together with the
   * chunks queued right after it (up to READ_AHEAD_BYTES in one read: one trip to the disk's
   * thread pool per run of chunks rather than per chunk). Valid until the next call.
   */
  async #readChunk (t: Transfer, out: Outgoing, index: number): Promise<Uint8Array> {
    const cs = t.chunkSize
    const length = chunkLength(t.size, cs, index)
    if (out.ahead !== null && index >= out.aheadFirst && index < out.aheadFirst + out.aheadCount) {
      const at = (index - out.aheadFirst) * cs
      return out.ahead.subarray(at, Math.min(out.aheadBytes, at + length))
    }
    let run = 1
    const n = chunkCount(t.size, cs)
    const most = Math.max(1, Math.floor(READ_AHEAD_BYTES / cs))
    while (run < most && index + run < n && out.queue[run - 1] === index + run) run++
    out.source ??= await this.opts.disk.openSource(t.source as string)
    out.ahead ??= new Uint8Array(cs * most)
    out.aheadCount = 0 // while the read runs, nothing in it is valid
    const got = await out.source.read(index * cs, Math.min(t.size, (index + run) * cs) - index * cs, out.ahead)
    out.aheadFirst = index
    out.aheadCount = run
    out.aheadBytes = got.length
    return got.subarray(0, Math.min(got.length, length))
  }

  /** Closes the source, at once or, while the pump reads from it, when its loop stops. */
  async #closeSource (out: Outgoing): Promise<void> {
    out.closed = true
    if (!out.pumping) await this.#dropSource(out)
  }

  async #dropSource (out: Outgoing): Promise<void> {
    const source = out.source
    out.source = null
    out.ahead = null
    out.aheadCount = 0
    await source?.close().catch(() => {})
  }

  // ---- state, persistence, timers ----

  async #move (t: Transfer, event: TransferEvent, reason?: string): Promise<boolean> {
    if (!this.#apply(t, event, reason)) return false
    await this.#save(t)
    this.#emit(t)
    return true
  }

  /** Moves the state in memory, at once; false when the event does not apply (state.ts). */
  #apply (t: Transfer, event: TransferEvent, reason?: string): boolean {
    const next = nextState(t.state, event, t.direction)
    if (next === null) return false
    t.state = next
    if (reason !== undefined) t.reason = reason
    t.updatedAt = this.opts.now()
    return true
  }

  /**
   * A terminal move: runtime state goes; an unfinished partial file is removed, unless it waits for a resume.
   * The ending life's runtime state is taken before the record's write is awaited: a user may
   * resume a transfer a full disk stopped (files.md §4.1) while that write is under way (an fsync
   * behind a busy disk can take seconds), and the resumed life's own state and partial file must
   * not be taken for the ended one's, closed and removed.
   */
  async #end (t: Transfer, event: TransferEvent, reason?: string): Promise<void> {
    if (!this.#apply(t, event, reason)) return
    const out = this.#out.get(t.id)
    this.#out.delete(t.id)
    if (out?.poll !== null && out?.poll !== undefined) this.opts.scheduler.clearTimer(out.poll)
    const inc = this.#in.get(t.id)
    this.#in.delete(t.id)
    if (inc !== undefined) {
      if (inc.syncTimer !== null) this.opts.scheduler.clearTimer(inc.syncTimer)
      if (inc.writeTimer !== null) this.opts.scheduler.clearTimer(inc.writeTimer)
    }
    const unfinished = t.state !== 'done'
    const removePartial = unfinished && !this.#resumable(t)
    await this.#save(t)
    this.#emit(t)
    if (out !== undefined) await this.#closeSource(out)
    if (inc === undefined || !unfinished) return
    await inc.writes.catch(() => {})
    await inc.syncing
    await inc.partial?.close().catch(() => {})
    if (removePartial) await this.opts.disk.removeFile(this.#partialPath(t)).catch(() => {})
  }

  /** Writes the record; `sync` false only for a receiver's bitmap mid-transfer (#sync, files.md §5.1). */
  async #save (t: Transfer, sync = true): Promise<void> {
    if (this.#transfers.get(t.id) !== t) return // forgotten (#prune): it is not written back
    await this.opts.store().putTransfer(t.id, encodeTransfer(t), sync)
  }

  /**
   * Forgets ended transfers (done, declined, cancelled, failed) older than keepEndedMs, and all but
   * the newest keepEnded of them: their records, and the partial file one stopped by a full disk
   * kept. Received files stay where they were placed (files.md §5.3).
   */
  async #prune (): Promise<void> {
    this.#prunedAt = this.opts.now()
    const maxAge = this.opts.keepEndedMs()
    const keep = this.opts.keepEnded()
    const ended = [...this.#transfers.values()].filter(t => TERMINAL.has(t.state)).sort((a, b) => b.updatedAt - a.updatedAt)
    const gone = ended.filter((t, i) => i >= keep || (maxAge > 0 && this.#prunedAt - t.updatedAt > maxAge))
    for (const t of gone) {
      const resumable = this.#resumable(t)
      this.#transfers.delete(t.id)
      await this.opts.store().removeTransfer(t.id)
      if (resumable) await this.opts.disk.removeFile(this.#partialPath(t)).catch(() => {})
    }
    if (gone.length > 0) this.opts.log.info({ forgotten: gone.length }, 'ended file transfers forgotten')
  }

  #emit (t: Transfer): void {
    this.opts.events.emit({ type: 'file', transfer: this.json(t) })
  }

  #arm (): void {
    if (!this.#running) return
    this.#timer = this.opts.scheduler.setTimer(this.#in.size > 0 ? TICK_MS : IDLE_TICK_MS, () => { this.#timer = null; this.#tick(); this.#arm() })
  }

  /** Chunks asked for and not come within REQUEST_STALL_MS are asked again (files.md §3.2). */
  #tick (): void {
    const now = this.opts.now()
    if (now - this.#prunedAt >= PRUNE_EVERY_MS) void this.#prune().catch(err => { this.#warn(err, 'forgetting ended transfers') })
    for (const [id, inc] of this.#in) {
      const t = this.#transfers.get(id)
      if (t === undefined || t.state !== 'active' || inc.core === null || inc.core.inFlight === 0 || now - inc.lastDataAt < REQUEST_STALL_MS) continue
      const link = this.#link(t.peer)
      if (link === undefined) continue
      inc.core.forgetRequests()
      inc.lastDataAt = now
      this.#request(t, link)
    }
  }

  #link (fp: string): PeerLink | undefined {
    const link = this.opts.messaging.network.link(fp)
    return link === undefined || link.closed ? undefined : link
  }

  #send (link: PeerLink, m: FileMessage): void {
    link.send(encodeFileFrame(encodeFileMessage(m))).catch(() => {}) // a closed link: the next link resumes
  }

  #sendTo (fp: string, m: FileMessage): void {
    const link = this.#link(fp)
    if (link !== undefined) this.#send(link, m)
  }

  #need (id: string): Transfer {
    const exact = this.#transfers.get(id)
    if (exact !== undefined) return exact
    const found = id.length >= 4 ? [...this.#transfers.values()].filter(x => x.id.startsWith(id.toLowerCase())) : []
    if (found.length > 1) throw errors.BAD_ARGUMENT(`${id} names ${found.length} transfers: give more of the id`)
    if (found[0] === undefined) throw errors.BAD_ARGUMENT(`no transfer ${id}`)
    return found[0]
  }

  #warn (err: unknown, what: string): void {
    this.opts.log.warn({ err: (err as Error).message }, what)
  }
}

function idBytes (hex: string): Uint8Array { return Uint8Array.from(Buffer.from(hex, 'hex')) }

function reasonCode (reason: string | undefined): number {
  for (const [code, name] of Object.entries(CANCEL_REASON_NAMES)) if (reason === name) return Number(code)
  return CancelReason.IO
}
