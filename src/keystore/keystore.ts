// The keystore file on disk (proto-spec/keystore.md §5): a map of named secrets encrypted under a
// passphrase. Every write goes through writeFileAtomic with mode 0600, so at each instant the path
// holds either the previous complete file or the new one, and a failure leaves it byte-identical.
import { open, stat } from 'node:fs/promises'
import type { Argon2idParams } from '../crypto/primitives.js'
import { DmessError, errors } from '../errors.js'
import { writeFileAtomic, sweepAtomicTemps } from '../platform/fs.js'
import { parseKeystore, HEADER_BYTES, MAX_CIPHERTEXT_BYTES, CHECKSUM_BYTES } from './format.js'
import { sealKeystore, unsealKeystore, type Secrets } from './seal.js'

export const KEYSTORE_FILE_MODE = 0o600
const MAX_FILE_BYTES = HEADER_BYTES + MAX_CIPHERTEXT_BYTES + CHECKSUM_BYTES

export interface WriteOptions {
  /** Argon2id parameters for the new file; default: the current file's, or DEFAULT_KDF when creating. */
  kdf?: Argon2idParams
  /** Test hook, passed to writeFileAtomic: runs after the temp file is durable, before the rename. */
  beforeRename?: (tmpPath: string) => Promise<void> | void
}

export interface CreateOptions extends WriteOptions {
  /** Replace an existing file at `path` (default: refuse with KEYSTORE_EXISTS). */
  overwrite?: boolean
}

export interface KeystoreInfo {
  version: number
  kdf: Argon2idParams
}

/** Writes a new keystore. Refuses to replace an existing file unless `overwrite`. */
export async function createKeystore (path: string, passphrase: string, secrets: Secrets, opts: CreateOptions = {}): Promise<void> {
  // A check then a rename, not an atomic no-clobber: two `dmess init` racing on one home is not a
  // case we defend (keystore.md §5).
  if (opts.overwrite !== true && await keystoreExists(path)) {
    throw errors.KEYSTORE_EXISTS(`a keystore already exists at ${path}; refusing to overwrite it`)
  }
  const file = await sealKeystore(secrets, passphrase, { kdf: opts.kdf })
  await writeFileAtomic(path, file, { mode: KEYSTORE_FILE_MODE, beforeRename: opts.beforeRename })
}

/** Decrypts the keystore at `path`. Throws one DmessError per keystore.md §4 row. */
export async function openKeystore (path: string, passphrase: string): Promise<Secrets> {
  const file = await readKeystoreFile(path)
  const secrets = await withPath(path, () => unsealKeystore(file, passphrase))
  await sweepAtomicTemps(path) // keystore.md §5: leftovers of killed writes go once we know the file is good
  return secrets
}

/** Re-encrypts under `newPassphrase` after proving `oldPassphrase`; fresh salt and nonce. */
export async function changePassphrase (path: string, oldPassphrase: string, newPassphrase: string, opts: WriteOptions = {}): Promise<void> {
  const file = await readKeystoreFile(path)
  const secrets = await withPath(path, () => unsealKeystore(file, oldPassphrase))
  try {
    await rewrite(path, file, newPassphrase, secrets, opts)
  } finally {
    wipeSecrets(secrets)
  }
}

/** Replaces the stored secrets (the whole map) after proving `passphrase`. */
export async function updateKeystore (path: string, passphrase: string, secrets: Secrets, opts: WriteOptions = {}): Promise<void> {
  const file = await readKeystoreFile(path)
  wipeSecrets(await withPath(path, () => unsealKeystore(file, passphrase)))
  await rewrite(path, file, passphrase, secrets, opts)
}

/** True if a regular file exists at `path` (says nothing about whether it is a valid keystore). */
export async function keystoreExists (path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch (err) {
    if (isNotFound(err)) return false
    throw unreadable(path, err)
  }
}

/** Format version and KDF parameters, checked for integrity; needs no passphrase. */
export async function readKeystoreInfo (path: string): Promise<KeystoreInfo> {
  const file = await readKeystoreFile(path)
  const { header } = await withPath(path, () => parseKeystore(file))
  return { version: header.version, kdf: { ...header.kdf } }
}

async function rewrite (path: string, oldFile: Uint8Array, passphrase: string, secrets: Secrets, opts: WriteOptions): Promise<void> {
  const kdf = opts.kdf ?? parseKeystore(oldFile).header.kdf
  const file = await sealKeystore(secrets, passphrase, { kdf })
  await writeFileAtomic(path, file, { mode: KEYSTORE_FILE_MODE, beforeRename: opts.beforeRename })
  // a leftover from an earlier killed write may hold the secrets under the old passphrase
  await sweepAtomicTemps(path)
}

// Size is checked before reading: pointing dmess at a huge file must not make it allocate that much.
async function readKeystoreFile (path: string): Promise<Uint8Array> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch (err) {
    if (isNotFound(err)) throw errors.KEYSTORE_MISSING(`no keystore at ${path} (run \`dmess init\` to create one)`)
    throw unreadable(path, err)
  }
  try {
    const { size } = await fh.stat()
    if (size > MAX_FILE_BYTES) throw errors.KEYSTORE_CORRUPT(`keystore is corrupt: ${size} bytes, more than the ${MAX_FILE_BYTES}-byte maximum (${path})`)
    const buf = new Uint8Array(size)
    const { bytesRead } = await fh.read(buf, 0, size, 0)
    return buf.subarray(0, bytesRead)
  } catch (err) {
    if (err instanceof DmessError) throw err
    throw unreadable(path, err)
  } finally {
    await fh.close()
  }
}

async function withPath<T> (path: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof DmessError) throw new DmessError(err.code, `${err.message} (${path})`, err.exitCode)
    throw err
  }
}

function wipeSecrets (secrets: Secrets): void {
  for (const v of Object.values(secrets)) v.fill(0)
}

function isNotFound (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

function unreadable (path: string, err: unknown): DmessError {
  return errors.KEYSTORE_UNREADABLE(`cannot read keystore ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
}
