// A user's profile in a home directory: the encrypted keystore (identity keys + the store key),
// a public identity file readable without the passphrase, the store, and the config.
// `init` creates them; `unlock` opens them. Commands call these; later the daemon does.
import { readFile, rename, stat } from 'node:fs/promises'
import { type HomePaths, ensureHome } from '../config/home.js'
import { defaultConfigText, loadConfig } from '../config/config.js'
import { errors } from '../errors.js'
import { writeFileAtomic } from '../platform/fs.js'
import { randomBytes, wipe, KEY_BYTES, type Argon2idParams } from '../crypto/primitives.js'
import {
  generateIdentity, identityFromSecrets, identityToSecrets, publicIdentityOf, wipeIdentity,
  type Identity, type PublicIdentity
} from '../crypto/identity.js'
import { encodeInvite, decodeInvite } from '../crypto/invite.js'
import { createKeystore, openKeystore, keystoreExists, changePassphrase } from '../keystore/index.js'
import { openStore, type Store } from '../store/index.js'
import { isTerminalSafe } from '../platform/terminal-text.js'

/** Keystore entry holding the key that seals message bodies and contact names at rest. */
export const STORE_KEY_SECRET = 'store.key'

export interface PublicProfile {
  fingerprint: string
  identity: PublicIdentity
  name?: string
  /** invite string carrying the public identity and the name */
  invite: string
}

export interface Unlocked {
  identity: Identity
  storeKey: Uint8Array
}

/** The public identity file: the invite string, one line. Needs no passphrase to read. */
function publicFile (paths: HomePaths): string {
  return `${paths.home}/identity.pub`
}

async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}

export interface InitOptions {
  name?: string
  force?: boolean
  kdf?: Argon2idParams
  now?: () => number
}

/**
 * Creates a new identity in `paths.home`. Refuses if one exists, unless `force`: then the old
 * keystore, public file and store are moved aside (`*.replaced-<time>`), never deleted.
 */
export async function initProfile (paths: HomePaths, passphrase: string, opts: InitOptions = {}): Promise<PublicProfile> {
  // the name goes into every CONTACT_REQUEST, which refuses such characters (proto-spec/envelope.md §3.5)
  if (opts.name !== undefined && !isTerminalSafe(opts.name)) throw errors.BAD_ARGUMENT('the name must not hold control characters (escape sequences, newlines, tabs) or invisible formatting characters')
  await ensureHome(paths.home)
  const had = await keystoreExists(paths.keystore)
  if (had && opts.force !== true) {
    throw errors.IDENTITY_EXISTS(`an identity already exists in ${paths.home}; use --force to replace it (the old one is kept as a backup)`)
  }
  // Also after a crash mid-init (a store but no keystore): that store's key is gone, keep it aside.
  await moveAside(paths, (opts.now ?? Date.now)())

  const identity = generateIdentity()
  const storeKey = randomBytes(KEY_BYTES)
  try {
    const invite = encodeInvite(publicIdentityOf(identity), opts.name)
    // Order matters for a crash mid-init: the keystore last, because its presence means "initialised".
    const store = await openStore(paths.db, storeKey)
    await store.close()
    if (!await exists(paths.config)) await writeFileAtomic(paths.config, defaultConfigText(), { mode: 0o600 })
    await writeFileAtomic(publicFile(paths), invite + '\n', { mode: 0o644 })
    await createKeystore(paths.keystore, passphrase, { ...identityToSecrets(identity), [STORE_KEY_SECRET]: storeKey }, { kdf: opts.kdf, overwrite: true })
    return { fingerprint: identity.fingerprint, identity: publicIdentityOf(identity), name: opts.name || undefined, invite }
  } finally {
    wipeIdentity(identity)
    wipe(storeKey)
  }
}

async function moveAside (paths: HomePaths, now: number): Promise<void> {
  const suffix = `.replaced-${new Date(now).toISOString().replace(/[:.]/g, '-')}`
  for (const p of [paths.keystore, publicFile(paths), paths.db]) {
    if (await exists(p)) await rename(p, p + suffix)
  }
}

/** Reads the public identity without the passphrase. */
export async function readPublicProfile (paths: HomePaths): Promise<PublicProfile> {
  let text: string
  try {
    text = await readFile(publicFile(paths), 'utf8')
  } catch {
    throw errors.NO_IDENTITY(`no identity in ${paths.home}; create one with \`dmess init\``)
  }
  const invite = text.trim()
  const decoded = decodeInvite(invite)
  return { fingerprint: decoded.fingerprint, identity: decoded.identity, name: decoded.name, invite }
}

/** Throws NO_IDENTITY unless `dmess init` has run in this home (checked before asking for a passphrase). */
export async function assertInitialised (paths: HomePaths): Promise<void> {
  if (!await keystoreExists(paths.keystore)) {
    throw errors.NO_IDENTITY(`no identity in ${paths.home}; create one with \`dmess init\``)
  }
}

/** Decrypts the keystore. The caller wipes what it gets when done (see `lock`). */
export async function unlock (paths: HomePaths, passphrase: string): Promise<Unlocked> {
  await assertInitialised(paths)
  const secrets = await openKeystore(paths.keystore, passphrase)
  const storeKey = secrets[STORE_KEY_SECRET]
  if (storeKey === undefined || storeKey.length !== KEY_BYTES) throw errors.KEYSTORE_CORRUPT(`${paths.keystore} has no store key`)
  return { identity: identityFromSecrets(secrets), storeKey }
}

export function lock (u: Unlocked): void {
  wipeIdentity(u.identity)
  wipe(u.storeKey)
}

/** Unlocks, opens the store, runs `fn`, and closes and wipes everything whatever happens. */
export async function withStore<T> (paths: HomePaths, passphrase: string, fn: (store: Store, u: Unlocked) => Promise<T>): Promise<T> {
  const u = await unlock(paths, passphrase)
  try {
    const store = await openStore(paths.db, u.storeKey)
    try {
      return await fn(store, u)
    } finally {
      await store.close()
    }
  } finally {
    lock(u)
  }
}

export async function changeProfilePassphrase (paths: HomePaths, oldPass: string, newPass: string): Promise<void> {
  await assertInitialised(paths)
  await changePassphrase(paths.keystore, oldPass, newPass)
}

/**
 * The name we offer contacts, in invites and CONTACT_REQUESTs: config "name" when set, else the
 * one given to `dmess init` (kept in the public file). A config file that does not parse leaves
 * the init name (the daemon refuses such a file at start anyway, with its own message).
 */
export async function displayName (paths: HomePaths): Promise<string | undefined> {
  const { config } = await loadConfig(paths.config).catch(() => ({ config: { name: '' } }))
  if (typeof config.name === 'string' && config.name !== '') return config.name
  return (await readPublicProfile(paths).catch(() => undefined))?.name
}
