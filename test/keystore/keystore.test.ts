// The keystore file API on a real disk: errors a user sees, file modes, and failures that must
// leave the existing file byte-identical (proto-spec/keystore.md §4–§5).
import t, { type Test } from 'tap'
import { mkdtemp, readFile, writeFile, stat, readdir, rm, mkdir, truncate, utimes, copyFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDmessError } from '../../src/errors.js'
import {
  createKeystore, openKeystore, changePassphrase, updateKeystore, keystoreExists, readKeystoreInfo, DEFAULT_KDF
} from '../../src/keystore/index.js'

const TINY = { t: 1, m: 64, p: 1 }
const SECRETS = { 'identity.ed25519': new Uint8Array(32).fill(3), 'identity.x25519': new Uint8Array(32).fill(4) }

async function codeOf (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'SUCCESS'
  } catch (err) {
    return isDmessError(err) ? err.code : `CRASH ${String(err)}`
  }
}

async function snapshot (path: string): Promise<{ bytes: Buffer, mtimeMs: number, ino: number }> {
  const s = await stat(path)
  return { bytes: await readFile(path), mtimeMs: s.mtimeMs, ino: s.ino }
}

async function freshDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-ks-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('create then open returns the same secrets; info needs no passphrase', async t => {
  const path = join(await freshDir(t), 'home', 'identity.keystore')
  t.equal(await keystoreExists(path), false)
  await createKeystore(path, 'hunter2 hunter2', SECRETS, { kdf: TINY })
  t.equal(await keystoreExists(path), true)
  t.same(await openKeystore(path, 'hunter2 hunter2'), SECRETS)
  t.same(await readKeystoreInfo(path), { version: 1, kdf: TINY })
})

t.test('default parameters are the OWASP ones and round-trip', async t => {
  const path = join(await freshDir(t), 'ks')
  await createKeystore(path, 'pw', SECRETS)
  t.same(await readKeystoreInfo(path), { version: 1, kdf: { t: 2, m: 19456, p: 1 } })
  t.same(DEFAULT_KDF, { t: 2, m: 19456, p: 1 })
  t.same(await openKeystore(path, 'pw'), SECRETS)
})

t.test('a wrong passphrase is WRONG_PASSPHRASE and touches nothing', async t => {
  const path = join(await freshDir(t), 'ks')
  await createKeystore(path, 'right', SECRETS, { kdf: TINY })
  const before = await snapshot(path)
  const err = await openKeystore(path, 'wrong').catch(e => e)
  t.equal(err.code, 'WRONG_PASSPHRASE')
  t.notMatch(err.message, /\n/, 'one line')
  t.match(err.message, path)
  t.same(await snapshot(path), before)
})

t.test('a missing file is KEYSTORE_MISSING; a directory is KEYSTORE_UNREADABLE', async t => {
  const dir = await freshDir(t)
  t.equal(await codeOf(openKeystore(join(dir, 'nope'), 'x')), 'KEYSTORE_MISSING')
  t.equal(await codeOf(readKeystoreInfo(join(dir, 'nope', 'deeper'))), 'KEYSTORE_MISSING')
  t.equal(await codeOf(changePassphrase(join(dir, 'nope'), 'x', 'y')), 'KEYSTORE_MISSING')
  await mkdir(join(dir, 'sub'))
  t.equal(await codeOf(openKeystore(join(dir, 'sub'), 'x')), 'KEYSTORE_UNREADABLE')
  t.equal(await keystoreExists(join(dir, 'sub')), false)
})

t.test('create refuses to overwrite unless asked', async t => {
  const path = join(await freshDir(t), 'ks')
  await createKeystore(path, 'one', SECRETS, { kdf: TINY })
  const before = await snapshot(path)
  t.equal(await codeOf(createKeystore(path, 'two', {}, { kdf: TINY })), 'KEYSTORE_EXISTS')
  t.same(await snapshot(path), before)
  await createKeystore(path, 'two', { only: Uint8Array.of(1) }, { kdf: TINY, overwrite: true })
  t.same(await openKeystore(path, 'two'), { only: Uint8Array.of(1) })
})

t.test('files are mode 0600, also under umask 0', async t => {
  const dir = await freshDir(t)
  const old = process.umask(0)
  try {
    await createKeystore(join(dir, 'a'), 'pw', SECRETS, { kdf: TINY })
    t.equal((await stat(join(dir, 'a'))).mode & 0o777, 0o600, 'create')
    await changePassphrase(join(dir, 'a'), 'pw', 'pw2')
    t.equal((await stat(join(dir, 'a'))).mode & 0o777, 0o600, 'change')
    await updateKeystore(join(dir, 'a'), 'pw2', {})
    t.equal((await stat(join(dir, 'a'))).mode & 0o777, 0o600, 'update')
  } finally {
    process.umask(old)
  }
})

t.test('changePassphrase: new opens, old does not, params kept unless overridden', async t => {
  const path = join(await freshDir(t), 'ks')
  await createKeystore(path, 'old pass', SECRETS, { kdf: TINY })
  await changePassphrase(path, 'old pass', 'new pass')
  t.same(await openKeystore(path, 'new pass'), SECRETS)
  t.equal(await codeOf(openKeystore(path, 'old pass')), 'WRONG_PASSPHRASE')
  t.same((await readKeystoreInfo(path)).kdf, TINY)
  await changePassphrase(path, 'new pass', 'newer', { kdf: { t: 2, m: 128, p: 2 } })
  t.same((await readKeystoreInfo(path)).kdf, { t: 2, m: 128, p: 2 })
  t.same(await openKeystore(path, 'newer'), SECRETS)
})

t.test('changePassphrase with a wrong old passphrase fails and leaves the file alone', async t => {
  const path = join(await freshDir(t), 'ks')
  await createKeystore(path, 'old pass', SECRETS, { kdf: TINY })
  const before = await snapshot(path)
  t.equal(await codeOf(changePassphrase(path, 'not it', 'new pass')), 'WRONG_PASSPHRASE')
  t.equal(await codeOf(changePassphrase(path, 'old pass', '')), 'NO_PASSPHRASE')
  t.equal(await codeOf(changePassphrase(path, 'old pass', 'x', { kdf: { t: 1, m: 1, p: 1 } })), 'BAD_ARGUMENT')
  t.same(await snapshot(path), before)
  t.same(await openKeystore(path, 'old pass'), SECRETS)
})

t.test('updateKeystore replaces the map after checking the passphrase', async t => {
  const path = join(await freshDir(t), 'ks')
  await createKeystore(path, 'pw', SECRETS, { kdf: TINY })
  const before = await snapshot(path)
  t.equal(await codeOf(updateKeystore(path, 'bad', {})), 'WRONG_PASSPHRASE')
  t.same(await snapshot(path), before)
  const next = { ...SECRETS, 'store.key': new Uint8Array(32).fill(5) }
  await updateKeystore(path, 'pw', next)
  t.same(await openKeystore(path, 'pw'), next)
})

t.test('a crash before the rename leaves the old file working and no temp files', async t => {
  const dir = await freshDir(t)
  const path = join(dir, 'ks')
  await createKeystore(path, 'old', SECRETS, { kdf: TINY })
  const before = await snapshot(path)
  let tmpSeen = ''
  const crash = async (tmp: string): Promise<void> => {
    tmpSeen = tmp
    t.equal((await stat(tmp)).mode & 0o777, 0o600, 'temp file is 0600 too')
    throw new Error('simulated crash')
  }
  await t.rejects(changePassphrase(path, 'old', 'new', { beforeRename: crash }), /simulated crash/)
  await t.rejects(updateKeystore(path, 'old', {}, { beforeRename: crash }), /simulated crash/)
  await t.rejects(createKeystore(path, 'x', {}, { kdf: TINY, overwrite: true, beforeRename: crash }), /simulated crash/)
  t.ok(tmpSeen.startsWith(dir))
  t.same(await snapshot(path), before)
  t.same(await openKeystore(path, 'old'), SECRETS)
  t.same(await readdir(dir), ['ks'], 'no temp files left')
})

t.test('temp files a killed writer left are swept once old: a stale copy under the old passphrase goes', async t => {
  const dir = await freshDir(t)
  const path = join(dir, 'ks')
  await createKeystore(path, 'old', SECRETS, { kdf: TINY })
  // what a SIGKILL between fsync and rename leaves: a complete keystore under the old passphrase
  const stale = join(dir, '.ks.00112233aabb.tmp')
  const fresh = join(dir, '.ks.ffeeddccbbaa.tmp') // a writer in another process, still running
  const unrelated = join(dir, '.other.00112233aabb.tmp')
  for (const f of [stale, fresh, unrelated]) await copyFile(path, f)
  const hourAgo = new Date(Date.now() - 3600_000)
  for (const f of [stale, unrelated]) await utimes(f, hourAgo, hourAgo)
  await changePassphrase(path, 'old', 'new')
  t.same((await readdir(dir)).sort(), ['.ks.ffeeddccbbaa.tmp', '.other.00112233aabb.tmp', 'ks'],
    'the old leftover is gone; a fresh one and another file\'s temp stay')
  await utimes(fresh, hourAgo, hourAgo)
  t.equal(await codeOf(openKeystore(path, 'old')), 'WRONG_PASSPHRASE', 'a failed open sweeps nothing')
  t.equal((await readdir(dir)).length, 3)
  t.same(await openKeystore(path, 'new'), SECRETS)
  t.same((await readdir(dir)).sort(), ['.other.00112233aabb.tmp', 'ks'], 'opening sweeps it once it is old')
})

t.test('every truncation of a file on disk is a clean KEYSTORE_TRUNCATED', async t => {
  const dir = await freshDir(t)
  const path = join(dir, 'ks')
  await createKeystore(path, 'pw', { k: new Uint8Array(8) }, { kdf: TINY })
  const full = await readFile(path)
  const wrong: string[] = []
  for (let n = full.length - 1; n >= 0; n--) {
    await truncate(path, n)
    const code = await codeOf(openKeystore(path, 'pw'))
    const info = await codeOf(readKeystoreInfo(path))
    if (code !== 'KEYSTORE_TRUNCATED' || info !== 'KEYSTORE_TRUNCATED') wrong.push(`${n}: ${code}/${info}`)
  }
  t.same(wrong, [], `${full.length} lengths`)
})

t.test('a bit flip on disk is KEYSTORE_CORRUPT; a huge file is refused unread', async t => {
  const dir = await freshDir(t)
  const path = join(dir, 'ks')
  await createKeystore(path, 'pw', SECRETS, { kdf: TINY })
  const full = await readFile(path)
  for (const i of [0, 9, 20, 50, 79, 100, full.length - 1]) {
    const bad = Buffer.from(full)
    bad[i]! ^= 0x10
    await writeFile(path, bad)
    t.equal(await codeOf(openKeystore(path, 'pw')), 'KEYSTORE_CORRUPT', `byte ${i}`)
  }
  await writeFile(path, full)
  await truncate(path, 4 * 1024 * 1024 * 1024) // sparse: 4 GiB that must not be read
  t.equal(await codeOf(openKeystore(path, 'pw')), 'KEYSTORE_CORRUPT')
})
