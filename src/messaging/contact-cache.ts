// The contacts the hot path needs (is this fingerprint a contact? what are its keys and name?)
// held in memory and refreshed from the store whenever a 'contact' event says one changed.
import type { Contact, Store } from '../store/index.js'

export class ContactCache {
  readonly #byFp = new Map<string, Contact>()

  constructor (private readonly store: () => Store) {}

  async load (): Promise<void> {
    this.#byFp.clear()
    for (const c of await this.store().listContacts()) this.#byFp.set(c.fingerprint, c)
  }

  /** Re-reads one contact; returns it, or undefined if it is no longer a contact. */
  async refresh (fp: string): Promise<Contact | undefined> {
    const c = await this.store().getContact(fp)
    if (c === undefined) this.#byFp.delete(fp)
    else this.#byFp.set(fp, c)
    return c
  }

  has (fp: string): boolean { return this.#byFp.has(fp) }
  get (fp: string): Contact | undefined { return this.#byFp.get(fp) }
  all (): Contact[] { return [...this.#byFp.values()] }
  set (c: Contact): void { this.#byFp.set(c.fingerprint, c) }
}
