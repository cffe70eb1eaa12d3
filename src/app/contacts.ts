// Contacts as the user names them: by fingerprint, a unique fingerprint prefix, or a name; added
// from an invite (keys known at once) or a bare fingerprint (keys learned later from the network).
import { errors } from '../errors.js'
import { parseFingerprint, isFingerprint, verifyPublicIdentity, fingerprintOf, type PublicIdentity } from '../crypto/identity.js'
import { decodeInvite, INVITE_PREFIX, type InviteAddresses } from '../crypto/invite.js'
import type { Contact, Store } from '../store/index.js'
import { isTerminalSafe } from '../platform/terminal-text.js'

/** Shortest fingerprint prefix we accept as a name for a contact (a prefix shorter than this is too easy to mistype onto another contact). */
export const MIN_PREFIX_CHARS = 4

export async function resolveContact (store: Store, query: string): Promise<Contact> {
  const q = query.trim()
  if (isFingerprint(q)) return findContact(await store.getContact(parseFingerprint(q)), q)
  return matchContact(q.length === 0 ? [] : await store.listContacts(), q)
}

/**
 * resolveContact over contacts already in memory (the daemon's contact cache): `byFingerprint`
 * answers a full fingerprint, `all` the names and prefixes.
 */
export function resolveContactIn (byFingerprint: (fp: string) => Contact | undefined, all: () => readonly Contact[], query: string): Contact {
  const q = query.trim()
  if (isFingerprint(q)) return findContact(byFingerprint(parseFingerprint(q)), q)
  return matchContact(q.length === 0 ? [] : all(), q)
}

function findContact (c: Contact | undefined, q: string): Contact {
  if (c) return c
  throw errors.CONTACT_NOT_FOUND(`no contact with fingerprint ${parseFingerprint(q)}`)
}

/** The one contact named `q` (trimmed, not a full fingerprint), by name or fingerprint prefix. */
function matchContact (all: readonly Contact[], q: string): Contact {
  if (q.length === 0) throw errors.BAD_ARGUMENT('name a contact by fingerprint, fingerprint prefix or name')
  const lower = q.toLowerCase()
  const byName = all.filter(c => c.name !== undefined && c.name.toLowerCase() === lower)
  if (byName.length === 1) return byName[0] as Contact
  if (byName.length > 1) throw errors.CONTACT_AMBIGUOUS(`${byName.length} contacts are named "${q}"; use a fingerprint prefix`)
  const compact = lower.replace(/[\s-]+/g, '')
  if (compact.length >= MIN_PREFIX_CHARS) {
    const byPrefix = all.filter(c => c.fingerprint.startsWith(compact))
    if (byPrefix.length === 1) return byPrefix[0] as Contact
    if (byPrefix.length > 1) throw errors.CONTACT_AMBIGUOUS(`"${q}" matches ${byPrefix.length} contacts; type more of the fingerprint`)
  }
  throw errors.CONTACT_NOT_FOUND(`no contact matches "${q}" (by name or fingerprint prefix)`)
}

export interface AddContactResult {
  contact: Contact
  created: boolean
  keysLearned: boolean
  /** a version 2 invite's addresses (identity.md §7.1): for the node to dial and join through */
  addresses?: InviteAddresses
}

/**
 * Adds from an invite or a fingerprint. An invite for a contact already known by fingerprint
 * alone fills in the keys. Adding yourself, or adding someone twice, is refused.
 */
export async function addContact (store: Store, input: string, opts: { name?: string, self: string, now: number }): Promise<AddContactResult> {
  const text = input.trim()
  let fingerprint: string
  let identity: PublicIdentity | undefined
  let suggested: string | undefined
  let addresses: InviteAddresses | undefined
  if (text.toLowerCase().startsWith(INVITE_PREFIX)) {
    const inv = decodeInvite(text)
    fingerprint = inv.fingerprint
    identity = inv.identity
    suggested = inv.name
    addresses = inv.addresses
  } else {
    fingerprint = parseFingerprint(text)
  }
  if (fingerprint === opts.self) throw errors.BAD_ARGUMENT('that is your own fingerprint')
  const name = opts.name ?? suggested
  if (name !== undefined) checkName(name)

  const existing = await store.getContact(fingerprint)
  if (existing) {
    if (identity && existing.signPublic === undefined) {
      const upgraded: Contact = { ...existing, ...identity, name: opts.name ?? existing.name ?? suggested }
      await store.putContact(upgraded)
      return { contact: upgraded, created: false, keysLearned: true, ...(addresses !== undefined ? { addresses } : {}) }
    }
    throw errors.CONTACT_EXISTS(`${existing.name ?? fingerprint} is already a contact`)
  }
  const contact: Contact = { fingerprint, verified: false, addedAt: opts.now, ...(identity ?? {}), ...(name ? { name } : {}) }
  await store.putContact(contact)
  return { contact, created: true, keysLearned: identity !== undefined, ...(addresses !== undefined ? { addresses } : {}) }
}

/** Names are shown in terminals: bounded and free of control characters. */
export function checkName (name: string): string {
  if (name.trim().length === 0) throw errors.BAD_ARGUMENT('a contact name must not be empty')
  if (Buffer.byteLength(name) > 64) throw errors.BAD_ARGUMENT('a contact name must be at most 64 bytes')
  // the same set every text from a peer is escaped for (src/platform/terminal-text.ts)
  if (!isTerminalSafe(name)) throw errors.BAD_ARGUMENT('a contact name must not contain control characters (or invisible formatting characters)')
  if (isFingerprint(name)) throw errors.BAD_ARGUMENT('a contact name must not look like a fingerprint')
  return name
}

/** The public identity of a contact whose keys we hold, checked against its fingerprint. */
export function contactIdentity (c: Contact): PublicIdentity | undefined {
  if (!c.signPublic || !c.dhPublic || !c.dhSignature) return undefined
  const p = { signPublic: c.signPublic, dhPublic: c.dhPublic, dhSignature: c.dhSignature }
  if (!verifyPublicIdentity(p) || fingerprintOf(p) !== c.fingerprint) return undefined
  return p
}
