// Backups (`dmess export` / `dmess import`): the identity keys, the contacts and optionally the
// message history, sealed under a passphrase of their own. The file is a keystore image
// (proto-spec/keystore.md: Argon2id, then XChaCha20-Poly1305 with the whole header as AAD, a
// checksum that tells a damaged file from a wrong passphrase) whose secrets map holds the
// identity entries and one more, `backup.v1`: the rest as UTF-8 JSON (proto-spec/keystore.md §8).
// Not included: the store key (import makes a new store under a new one), ratchet sessions and
// prekeys (a restored node starts new sessions: reusing a ratchet state elsewhere would repeat
// message keys), contacts' prekey bundles (asked for again), the outbox and the config.
import { stat } from 'node:fs/promises'
import { ensureHome, type HomePaths } from '../config/home.js'
import { defaultConfigText } from '../config/config.js'
import { errors } from '../errors.js'
import { writeFileAtomic } from '../platform/fs.js'
import { randomBytes, wipe, KEY_BYTES, type Argon2idParams } from '../crypto/primitives.js'
import { identityFromSecrets, identityToSecrets, publicIdentityOf, wipeIdentity, type Identity } from '../crypto/identity.js'
import { encodeInvite } from '../crypto/invite.js'
import { createKeystore, keystoreExists, sealKeystore, unsealKeystore } from '../keystore/index.js'
import { openStore } from '../store/index.js'
import type { Contact, NewMessage, StoredMessage } from '../store/types.js'
import type { Store } from '../store/index.js'
import { lock, readPublicProfile, unlock, withStore, STORE_KEY_SECRET } from './profile.js'

export const BACKUP_SECRET = 'backup.v1'
/** A backup reads a conversation in pages of this many messages. */
const PAGE = 1000

interface BackupContact { fingerprint: string, name?: string, signPublic?: string, dhPublic?: string, dhSignature?: string, verified: boolean, addedAt: number, lastSeen?: number }
type BackupMessage = Omit<StoredMessage, 'seq'>
export interface BackupBody { format: 'dmess-backup', version: 1, createdAt: number, name?: string, contacts: BackupContact[], history?: BackupMessage[] }

export interface ExportSummary { fingerprint: string, contacts: number, messages: number | null, bytes: number }

/**
 * The sealed backup of the home unlocked with `passphrase`, under `backupPassphrase`. With `body`
 * (a running daemon holds the store: it answers `backup.body` over its socket) only the keystore
 * is opened here; the passphrase is asked even then: a backup hands out the private keys, and the
 * daemon's socket never does (proto-spec/ipc.md §4).
 */
export async function exportBackup (paths: HomePaths, passphrase: string, backupPassphrase: string, opts: { history: boolean, now?: number, kdf?: Argon2idParams }, body?: (history: boolean) => Promise<BackupBody>): Promise<{ file: Uint8Array, summary: ExportSummary }> {
  const pub = await readPublicProfile(paths)
  const now = opts.now ?? Date.now()
  if (body === undefined) {
    return await withStore(paths, passphrase, async (store, u) => await sealBackup(u.identity, await backupBody(store, { history: opts.history, now, name: pub.name }), backupPassphrase, opts.kdf))
  }
  const u = await unlock(paths, passphrase)
  try {
    const { name: _name, ...rest } = await body(opts.history)
    return await sealBackup(u.identity, { ...rest, createdAt: now, ...(pub.name === undefined ? {} : { name: pub.name }) }, backupPassphrase, opts.kdf)
  } finally {
    lock(u)
  }
}

/** What a backup holds besides the keys: the contacts with their public keys, and with `history` every message. */
export async function backupBody (store: Store, opts: { history: boolean, now: number, name?: string | undefined }): Promise<BackupBody> {
  const contacts = await store.listContacts()
  let history: BackupMessage[] | undefined
  if (opts.history) {
    history = []
    for (const c of contacts) history.push(...await allMessages(async before => await store.history(c.fingerprint, { limit: PAGE, ...(before === undefined ? {} : { before }) }), PAGE))
  }
  return { format: 'dmess-backup', version: 1, createdAt: opts.now, ...(opts.name === undefined ? {} : { name: opts.name }), contacts: contacts.map(contactOut), ...(history === undefined ? {} : { history }) }
}

async function sealBackup (identity: Identity, body: BackupBody, backupPassphrase: string, kdf: Argon2idParams | undefined): Promise<{ file: Uint8Array, summary: ExportSummary }> {
  const json = Buffer.from(JSON.stringify(body), 'utf8')
  const secrets = { ...identityToSecrets(identity), [BACKUP_SECRET]: new Uint8Array(json) }
  try {
    const file = await sealKeystore(secrets, backupPassphrase, kdf === undefined ? {} : { kdf })
    return { file, summary: { fingerprint: identity.fingerprint, contacts: body.contacts.length, messages: body.history?.length ?? null, bytes: file.length } }
  } catch (err) {
    if ((err as { code?: string }).code === 'BAD_ARGUMENT' && /too large/.test((err as Error).message)) throw errors.BAD_ARGUMENT(`the backup would be ${json.length} bytes; a backup holds at most 1 MiB: export without --history`)
    throw err
  } finally {
    for (const v of Object.values(secrets)) wipe(v)
  }
}

/** Oldest first, from the store's pages (each newest first, the next one older than its last). */
export async function allMessages (page: (before: number | undefined) => Promise<StoredMessage[]>, pageSize = PAGE): Promise<BackupMessage[]> {
  const out: StoredMessage[] = []
  let before: number | undefined
  for (;;) {
    const p = await page(before)
    out.push(...p)
    const oldest = p.at(-1)
    if (oldest === undefined || p.length < pageSize || oldest.seq <= 1) break
    before = oldest.seq
  }
  return out.reverse().map(({ seq: _seq, ...m }) => m)
}

/**
 * Restores a backup into a home with no identity: a new store (new store key) holding the
 * contacts and history, the public file, a default config, then the keystore under `passphrase`
 * (last: its presence means "initialised", as in initProfile).
 */
export async function importBackup (paths: HomePaths, file: Uint8Array, backupPassphrase: string, passphrase: string, opts: { kdf?: Argon2idParams } = {}): Promise<ExportSummary> {
  if (await keystoreExists(paths.keystore)) throw errors.IDENTITY_EXISTS(`an identity already exists in ${paths.home}; import into an empty home (--home)`)
  const secrets = await unsealKeystore(file, backupPassphrase)
  const raw = secrets[BACKUP_SECRET]
  if (raw === undefined) throw errors.BAD_ARGUMENT('this file is a dmess keystore, not a backup (`dmess export` makes those)')
  const body = parseBody(raw)
  const identity = identityFromSecrets(secrets)
  const storeKey = randomBytes(KEY_BYTES)
  try {
    await ensureHome(paths.home)
    if (await exists(paths.db)) throw errors.IDENTITY_EXISTS(`${paths.db} exists without an identity; import into an empty home (--home)`)
    const store = await openStore(paths.db, storeKey)
    try {
      for (const c of body.contacts) await store.putContact(contactIn(c))
      if (body.history !== undefined && body.history.length > 0) await store.addMessages(body.history as NewMessage[])
    } finally {
      await store.close()
    }
    if (!await exists(paths.config)) await writeFileAtomic(paths.config, defaultConfigText(), { mode: 0o600 })
    await writeFileAtomic(`${paths.home}/identity.pub`, encodeInvite(publicIdentityOf(identity), body.name) + '\n', { mode: 0o644 })
    await createKeystore(paths.keystore, passphrase, { ...identityToSecrets(identity), [STORE_KEY_SECRET]: storeKey }, opts.kdf === undefined ? {} : { kdf: opts.kdf })
    return { fingerprint: identity.fingerprint, contacts: body.contacts.length, messages: body.history?.length ?? null, bytes: file.length }
  } finally {
    wipeIdentity(identity)
    wipe(storeKey)
    for (const v of Object.values(secrets)) wipe(v)
  }
}

function parseBody (raw: Uint8Array): BackupBody {
  let body: BackupBody
  try {
    body = JSON.parse(Buffer.from(raw).toString('utf8')) as BackupBody
  } catch {
    throw errors.BAD_ARGUMENT('the backup\'s contents do not parse')
  }
  if (body?.format !== 'dmess-backup' || !Array.isArray(body.contacts)) throw errors.BAD_ARGUMENT('the backup\'s contents do not parse')
  if (body.version !== 1) throw errors.BAD_ARGUMENT(`the backup has version ${String(body.version)}; this dmess reads version 1`)
  return body
}

const hex = (b: Uint8Array | undefined): string | undefined => b === undefined ? undefined : Buffer.from(b).toString('hex')
const bytes = (h: string | undefined): Uint8Array | undefined => h === undefined ? undefined : new Uint8Array(Buffer.from(h, 'hex'))

function contactOut (c: Contact): BackupContact {
  return JSON.parse(JSON.stringify({ ...c, signPublic: hex(c.signPublic), dhPublic: hex(c.dhPublic), dhSignature: hex(c.dhSignature) })) as BackupContact
}

function contactIn (c: BackupContact): Contact {
  const out: Contact = { fingerprint: c.fingerprint, verified: c.verified === true, addedAt: c.addedAt }
  if (c.name !== undefined) out.name = c.name
  if (c.lastSeen !== undefined) out.lastSeen = c.lastSeen
  for (const k of ['signPublic', 'dhPublic', 'dhSignature'] as const) {
    const b = bytes(c[k])
    if (b !== undefined) out[k] = b
  }
  return out
}

async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}
