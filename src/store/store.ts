// The local store: one LevelDB per home (<home>/db) holding contacts, messages, the outbox and
// the blocklist, every value sealed under the store key and no fingerprint, id or time in a key.
// Layout, encodings and versions: proto-spec/storage.md.
import { Blocklist, Contacts } from './contacts.js'
import { RecordCipher } from './crypt.js'
import { openRaw, SerialQueue, sublevels, type RawDb, type StoreContext } from './db.js'
import { checkFingerprint, KeyTags } from './key-layout.js'
import { Messages } from './messages.js'
import { prepareSchema } from './migrations.js'
import { Outbox } from './outbox.js'
import { Sessions, type SessionWrite } from './sessions.js'
import { PeerBundles, type StoredBundle } from './bundles.js'
import { GroupCommit } from './group.js'
import { search } from './search.js'
import { Transfers, type TransferRecord } from './transfers.js'
import type {
  AddResult, BlockedEntry, Contact, Conversation, HistoryOptions, MessageStatus, NewMessage,
  OutboxEntry, OutboxListOptions, SearchOptions, StoreOptions, StoredMessage
} from './types.js'

export class Store {
  private readonly messages: Messages
  private readonly contacts: Contacts
  private readonly blocks: Blocklist
  private readonly outbox: Outbox
  private readonly transfers: Transfers
  private readonly sessions: Sessions
  private readonly bundles: PeerBundles
  private closing: Promise<void> | undefined

  /** Use openStore. */
  constructor (private readonly ctx: StoreContext, readonly schemaVersion: number) {
    this.messages = new Messages(ctx)
    this.contacts = new Contacts(ctx)
    this.blocks = new Blocklist(ctx)
    this.outbox = new Outbox(ctx, this.messages)
    this.transfers = new Transfers(ctx)
    this.sessions = new Sessions(ctx)
    this.bundles = new PeerBundles(ctx)
  }

  /** Reads what the open store keeps in memory from the start: the outbox entries held in messages (§Outbox). Called by openStore. */
  async load (): Promise<void> { await this.messages.loadHeld() }

  // ---- contacts (§Contacts) ----
  async putContact (c: Contact): Promise<void> { await this.contacts.put(c) }
  async getContact (fp: string): Promise<Contact | undefined> { return await this.contacts.get(fp) }
  async listContacts (): Promise<Contact[]> { return await this.contacts.list() }
  /** The contact, its ratchet sessions and its prekey bundle, in one batch (§Contacts): a contact added again starts afresh. */
  async removeContact (fp: string): Promise<boolean> {
    return await this.contacts.remove(fp, () => {
      const s = this.sessions.removeOp(fp)
      return { ops: [s.op, this.bundles.removeOp(fp)], after: s.after }
    })
  }
  async renameContact (fp: string, name: string | undefined): Promise<Contact> { return await this.contacts.rename(fp, name) }
  async setVerified (fp: string, verified: boolean): Promise<Contact> { return await this.contacts.setVerified(fp, verified) }
  async touchLastSeen (fp: string, at: number = this.ctx.now()): Promise<boolean> { return await this.contacts.touchLastSeen(fp, at) }

  // ---- messages (§Messages) ----
  /** With `session`: the peer's ratchet record goes in the same batch (envelope.md §8.4). */
  async addMessage (m: NewMessage, session?: SessionWrite): Promise<AddResult> {
    const [r] = await this.addMessages([m], session)
    return r as AddResult
  }
  /**
   * addMessage for many, in one write; `session`, a ratchet step stored in that same batch (a
   * BATCH's, envelope.md §8.4). `freshIds`: every id was just drawn at random (128 bits, ours to
   * send), so none can be stored already and the duplicate lookup is skipped.
   */
  async addMessages (list: readonly NewMessage[], session?: SessionWrite, opts: { freshIds?: boolean } = {}): Promise<AddResult[]> {
    return await this.messages.addMany(list, session === undefined ? undefined : tx => { this.sessions.prepare(tx, session) }, opts.freshIds === true)
  }
  async getMessage (id: string): Promise<StoredMessage | undefined> { return await this.messages.get(id) }
  /** getMessage without the thread-pool round trip (for the daemon's hot path): LevelDB's cache, synchronously. */
  getMessageSync (id: string): StoredMessage | undefined { return this.messages.getSyncChecked(id) }
  async history (peer: string, opts?: HistoryOptions): Promise<StoredMessage[]> { return await this.messages.history(peer, opts) }
  async setStatus (id: string, status: MessageStatus): Promise<boolean> { return await this.messages.setStatus(id, status) }
  /**
   * setStatus for many ids in one write; one boolean per id (changed or not). With `session`: the
   * peer's ratchet record goes in the same batch (the step of the receipt that moved them, envelope.md §8.4).
   */
  async setStatuses (ids: readonly string[], status: MessageStatus, session?: SessionWrite): Promise<boolean[]> {
    return await this.messages.setStatusMany(ids, status, session === undefined ? undefined : tx => { this.sessions.prepare(tx, session) })
  }
  async markRead (peer: string, upTo?: number): Promise<string[]> { return await this.messages.markRead(peer, upTo) }
  async unreadCount (peer: string): Promise<number> { return await this.messages.unreadCount(peer) }
  async lastSeq (peer: string): Promise<number> { return await this.ctx.queue.run(async () => this.messages.lastSeqSync(checkFingerprint(peer))) }
  async conversations (): Promise<Conversation[]> { return await this.messages.conversations() }
  async search (query: string, opts?: SearchOptions): Promise<StoredMessage[]> { return await search(this.ctx, this.messages, query, opts) }

  // ---- outbox (§Outbox) ----
  async putOutbox (e: OutboxEntry): Promise<void> { await this.outbox.put(e) }
  /** putOutbox for many entries, in one write. */
  async putOutboxMany (list: readonly OutboxEntry[], session?: SessionWrite): Promise<void> {
    await this.outbox.putMany(list, session === undefined ? undefined : tx => { this.sessions.prepare(tx, session) })
  }

  // ---- ratchet sessions (§Sessions) ----
  async putSession (w: SessionWrite): Promise<void> { await this.sessions.put(w) }
  async removeSession (peer: string): Promise<void> { await this.sessions.remove(peer) }
  async listSessions (): Promise<Array<{ peer: string, value: Uint8Array }>> { return await this.sessions.list() }

  // ---- contacts' prekey bundles (§Bundles) ----
  async putBundle (b: StoredBundle): Promise<void> { await this.bundles.put(b) }
  async removeBundle (peer: string): Promise<void> { await this.bundles.remove(peer) }
  async listBundles (): Promise<StoredBundle[]> { return await this.bundles.list() }
  async getOutbox (id: string): Promise<OutboxEntry | undefined> { return await this.outbox.get(id) }
  async removeOutbox (id: string): Promise<boolean> { return await this.outbox.remove(id) }
  /** removeOutbox for many ids, in one write; one boolean per id. */
  async removeOutboxMany (ids: readonly string[]): Promise<boolean[]> { return await this.outbox.removeMany(ids) }
  async listOutbox (opts?: OutboxListOptions): Promise<OutboxEntry[]> { return await this.outbox.list(opts) }

  /** Batches the store has written, how many were fsynced, and the writes they carried (group.ts). */
  get writeCounts (): { batches: number, steps: number, puts: number, dels: number, bytes: number, putsBySub: Record<string, number> } { const c = this.ctx.group.counts; return { ...c, putsBySub: { ...c.putsBySub } } }

  // ---- blocklist (§Blocklist) ----
  // ---- file transfers (proto-spec/files.md §5.1): opaque records, synced unless `sync` is false ----
  async putTransfer (id: string, value: Uint8Array, sync = true): Promise<void> { await this.transfers.put(id, value, sync) }
  async removeTransfer (id: string): Promise<void> { await this.transfers.remove(id) }
  async listTransfers (): Promise<TransferRecord[]> { return await this.transfers.list() }

  async block (fp: string, at?: number): Promise<boolean> { return await this.blocks.block(fp, at) }
  async unblock (fp: string): Promise<boolean> { return await this.blocks.unblock(fp) }
  async isBlocked (fp: string): Promise<boolean> { return await this.blocks.isBlocked(fp) }
  async listBlocked (): Promise<BlockedEntry[]> { return await this.blocks.list() }

  /** Waits for queued writes, wipes the record key and closes LevelDB. Idempotent. */
  async close (): Promise<void> {
    this.closing ??= (async () => {
      // a batch being written may have queued the next one: wait until none is left
      do await this.ctx.queue.drain()
      while (!this.ctx.group.idle)
      this.ctx.cipher.wipe()
      await this.ctx.db.close()
    })()
    await this.closing
  }
}

/**
 * Open (or create) the store in `dir` (normally <home>/db). `storeKey` is 32 secret bytes; the
 * store derives its own subkey and keeps no reference to it (the caller wipes its copy).
 * Throws STORE_LOCKED (another process has it open), STORE_TOO_NEW (written by a newer dmess),
 * STORE_KEY_MISMATCH (another key), STORE_CORRUPT.
 */
export async function openStore (dir: string, storeKey: Uint8Array, opts: StoreOptions = {}): Promise<Store> {
  const cipher = new RecordCipher(storeKey)
  const keys = new KeyTags((label, ...parts) => cipher.tag(label, ...parts))
  let db = await openRaw(dir, opts.storage)
  let subs = sublevels(db)
  try {
    const { version, migrated } = await prepareSchema({ db, subs, cipher, keys })
    if (migrated) {
      db = await reopenFresh(db, dir, opts)
      subs = sublevels(db)
    }
    // sublevels open asynchronously, and the synchronous reads (getSync) do not wait for it
    await Promise.all(Object.values(subs).map(async (s) => { await s.open() }))
    const queue = new SerialQueue()
    const sync = opts.sync ?? false
    const ctx: StoreContext = { db, subs, cipher, keys, queue, group: new GroupCommit(db, queue, sync), sync, now: opts.now ?? Date.now }
    const store = new Store(ctx, version)
    await store.load()
    return store
  } catch (err) {
    cipher.wipe()
    await db.close()
    throw err
  }
}

/**
 * After a migration (which compacts every table, §Migration v2 → v3), LevelDB's own bookkeeping
 * still names old keys: the MANIFEST lists the key range of every table it ever added, and the
 * info log (LOG) prints the key where each manual compaction stopped. Opening anew writes a
 * MANIFEST of the live tables only and moves LOG to LOG.old (replacing the one before), so two
 * reopenings leave no file that names an old-format key.
 */
async function reopenFresh (db: RawDb, dir: string, opts: StoreOptions): Promise<RawDb> {
  for (let i = 0; i < 2; i++) {
    await db.close()
    db = await openRaw(dir, opts.storage)
  }
  return db
}
