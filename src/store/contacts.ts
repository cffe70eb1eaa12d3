// Contacts and the blocklist (proto-spec/storage.md §Contacts, §Blocklist): keyed by a tag of
// the fingerprint, the fingerprint and everything else sealed in the value.
import { errors } from '../errors.js'
import { commit, type Op, type StoreContext } from './db.js'
import { checkFingerprint, checkTime, SUB } from './key-layout.js'
import { blockedOp, contactOp } from './record-ops.js'
import { openRecord, toBlocked, toContact } from './records.js'
import type { BlockedEntry, Contact } from './types.js'

function checkContact (c: Contact): Contact {
  checkFingerprint(c.fingerprint)
  checkTime(c.addedAt, `contact ${c.fingerprint} addedAt`)
  if (c.lastSeen !== undefined) checkTime(c.lastSeen, `contact ${c.fingerprint} lastSeen`)
  if (c.name !== undefined && typeof c.name !== 'string') throw errors.BAD_ARGUMENT(`contact ${c.fingerprint}: name must be a string`)
  for (const f of ['signPublic', 'dhPublic', 'dhSignature'] as const) {
    if (c[f] !== undefined && !(c[f] instanceof Uint8Array)) throw errors.BAD_ARGUMENT(`contact ${c.fingerprint}: ${f} must be bytes`)
  }
  return { ...c, verified: c.verified === true }
}

// Every contact, decoded, held from the first read on: the store is the only writer of its
// database (LevelDB's lock keeps other processes out), so writing through this class keeps the
// copy exact. Naming a contact (resolveContact) reads them all on each message sent by name;
// decrypting every name each time grew with the address book. Callers get copies.
function copyOf (c: Contact | Error | undefined): Contact | undefined {
  if (c instanceof Error) throw c
  return c === undefined ? undefined : { ...c }
}

export class Contacts {
  // Keyed by the contact's key tag (a record that does not open cannot tell its fingerprint).
  // A record that does not decode is kept as its error: reading that contact fails as it did
  // from disk (STORE_CORRUPT), the others stay readable.
  #all: Map<string, Contact | Error> | null = null
  #loading: Promise<Map<string, Contact | Error>> | null = null

  constructor (private readonly ctx: StoreContext) {}

  // Loaded on the write queue, so no write lands between the database read and the copy.
  async #contacts (): Promise<Map<string, Contact | Error>> {
    if (this.#all !== null) return this.#all
    this.#loading ??= this.ctx.queue.run(async () => await this.#load()).finally(() => { this.#loading = null })
    return await this.#loading
  }

  /** Only on the write queue (the queue does not nest: a queued task calls this, not #contacts). */
  async #load (): Promise<Map<string, Contact | Error>> {
    if (this.#all !== null) return this.#all
    const entries = await this.ctx.subs.contacts.iterator().all()
    this.#all = new Map(entries.map(([key, v]) => [key, this.#decode(key, v)]))
    return this.#all
  }

  #decode (key: string, v: Uint8Array): Contact | Error {
    const what = `contact ${key}`
    try {
      const c = toContact(openRecord(this.ctx.cipher, SUB.contacts, key, v, what), what)
      if (this.ctx.keys.contact(c.fingerprint) !== key) throw errors.STORE_CORRUPT(`${what}: filed under another fingerprint`)
      return c
    } catch (err) {
      return err as Error
    }
  }

  async #getQueued (fp: string): Promise<Contact | undefined> {
    return copyOf((await this.#load()).get(this.ctx.keys.contact(fp)))
  }

  /** Insert or replace the contact with this fingerprint. */
  async put (c: Contact): Promise<void> {
    const checked = checkContact(c)
    await this.ctx.queue.run(async () => await this.write(checked))
  }

  private async write (c: Contact): Promise<void> {
    await commit(this.ctx.db, [contactOp(this.ctx, c)], this.ctx.sync)
    this.#all?.set(this.ctx.keys.contact(c.fingerprint), { ...c })
  }

  async get (fp: string): Promise<Contact | undefined> {
    return copyOf((await this.#contacts()).get(this.ctx.keys.contact(checkFingerprint(fp))))
  }

  /** All contacts in fingerprint order. */
  async list (): Promise<Contact[]> {
    const all = [...(await this.#contacts()).values()].map(c => copyOf(c) as Contact)
    return all.sort((a, b) => a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0)
  }

  /**
   * True when a contact was removed. Its messages stay (see §Contacts); `with` adds the ops that
   * go in the same batch (its sessions and bundle) and what to run once it is written.
   */
  async remove (fp: string, with_?: () => { ops: Op[], after: () => void }): Promise<boolean> {
    checkFingerprint(fp)
    const key = this.ctx.keys.contact(fp)
    return await this.ctx.queue.run(async () => {
      if (await this.ctx.subs.contacts.get(key) === undefined) return false
      const also = with_?.()
      try {
        await commit(this.ctx.db, [{ type: 'del', sublevel: this.ctx.subs.contacts, key }, ...(also?.ops ?? [])], this.ctx.sync)
        this.#all?.delete(key)
      } finally {
        also?.after()
      }
      return true
    })
  }

  /** Read-modify-write one contact under the queue; CONTACT_NOT_FOUND when absent. */
  private async update (fp: string, change: (c: Contact) => void): Promise<Contact> {
    checkFingerprint(fp)
    return await this.ctx.queue.run(async () => {
      const c = await this.#getQueued(fp)
      if (c === undefined) throw errors.CONTACT_NOT_FOUND(`no contact with fingerprint ${fp}`)
      change(c)
      await this.write(checkContact(c))
      return c
    })
  }

  /** Set (or with undefined, clear) the name. */
  async rename (fp: string, name: string | undefined): Promise<Contact> {
    return await this.update(fp, (c) => {
      if (name === undefined) delete c.name
      else c.name = name
    })
  }

  async setVerified (fp: string, verified: boolean): Promise<Contact> {
    return await this.update(fp, (c) => { c.verified = verified })
  }

  /** Record that the peer was seen at `at` (only ever moves forward); false for an unknown contact. */
  async touchLastSeen (fp: string, at: number): Promise<boolean> {
    checkFingerprint(fp)
    checkTime(at, 'lastSeen')
    return await this.ctx.queue.run(async () => {
      const c = await this.#getQueued(fp)
      if (c === undefined || (c.lastSeen !== undefined && c.lastSeen >= at)) return false
      c.lastSeen = at
      await this.write(c)
      return true
    })
  }
}

export class Blocklist {
  constructor (private readonly ctx: StoreContext) {}

  /** True when newly blocked (false when already blocked: the first blockedAt is kept). */
  async block (fp: string, at = this.ctx.now()): Promise<boolean> {
    checkFingerprint(fp)
    checkTime(at, 'blockedAt')
    const key = this.ctx.keys.blocked(fp)
    return await this.ctx.queue.run(async () => {
      if (await this.ctx.subs.blocklist.get(key) !== undefined) return false
      await commit(this.ctx.db, [blockedOp(this.ctx, fp, at)], this.ctx.sync)
      return true
    })
  }

  /** True when the fingerprint was blocked. */
  async unblock (fp: string): Promise<boolean> {
    const key = this.ctx.keys.blocked(checkFingerprint(fp))
    return await this.ctx.queue.run(async () => {
      if (await this.ctx.subs.blocklist.get(key) === undefined) return false
      await commit(this.ctx.db, [{ type: 'del', sublevel: this.ctx.subs.blocklist, key }], this.ctx.sync)
      return true
    })
  }

  async isBlocked (fp: string): Promise<boolean> {
    return await this.ctx.subs.blocklist.has(this.ctx.keys.blocked(checkFingerprint(fp)))
  }

  /** Every blocked fingerprint, in fingerprint order. */
  async list (): Promise<BlockedEntry[]> {
    const entries = await this.ctx.subs.blocklist.iterator().all()
    const out = entries.map(([key, v]) => toBlocked(openRecord(this.ctx.cipher, SUB.blocklist, key, v, `blocklist ${key}`), `blocklist ${key}`))
    return out.sort((a, b) => a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0)
  }
}
