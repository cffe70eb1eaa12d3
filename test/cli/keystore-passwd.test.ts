// The keystore and `dmess passwd` through the built commands in temporary homes, run in this
// process (test/helpers/cli-inproc.ts); the homes of `dmess init` by the binary (initHome).
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { tempHome, assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { PW, initHome, quickHome } from '../helpers/profiles.js'

/** A well-formed file that claims format version 9: both checksums recomputed (proto-spec/keystore.md). */
function newerVersion (good: Buffer): Buffer {
  const b = Buffer.from(good)
  b.writeUInt16BE(9, 8)
  createHash('sha256').update(b.subarray(0, 72)).digest().copy(b, 72, 0, 8)
  createHash('sha256').update(b.subarray(0, b.length - 32)).digest().copy(b, b.length - 32)
  return b
}

t.test('a damaged keystore gives a distinct one-line error each and is left untouched', async t => {
  const alice = await quickHome(t, 'alice')
  const path = join(alice.home, 'identity.keystore')
  const good = await readFile(path)
  const cases: Array<[string, Buffer, RegExp]> = [
    ['truncated', good.subarray(0, good.length - 7), /truncated/i],
    ['corrupted', Buffer.from(good.map((b, i) => i === good.length - 40 ? b ^ 0x10 : b)), /corrupt/i],
    ['newer version', newerVersion(good), /newer/i]
  ]
  for (const [what, bytes, pattern] of cases) {
    await writeFile(path, bytes)
    const r = await runCliInProcess(['contacts', 'list', '--home', alice.home], { env: PW })
    assertOneLineError(t, r, pattern)
    t.same(await readFile(path), bytes, `${what}: file untouched`)
  }
  await writeFile(path, good)
  t.equal((await runCliInProcess(['contacts', 'list', '--home', alice.home], { env: PW })).code, 0, 'the original opens again')
})

t.test('passwd changes the passphrase; the old one stops working', async t => {
  const alice = await initHome(t, 'alice') // the real KDF parameters: passwd unlocks and re-seals with them
  const h = ['--home', alice.home]
  const dir = await tempHome(t)
  await writeFile(join(dir, 'new'), 'new passphrase\n')
  let r = await runCliInProcess(['passwd', '--new-passphrase-file', join(dir, 'new'), ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  assertOneLineError(t, await runCliInProcess(['contacts', 'list', ...h], { env: PW }), /wrong passphrase/)
  r = await runCliInProcess(['contacts', 'list', '--passphrase-file', join(dir, 'new'), ...h])
  t.equal(r.code, 0, r.stderr)
  r = await runCliInProcess(['passwd', ...h], { env: { DMESS_PASSPHRASE: 'bad', DMESS_NEW_PASSPHRASE: 'x y z w v u' } })
  assertOneLineError(t, r, /wrong passphrase/)
  // the mistakes a new passphrase can have: each named for what it is
  const newFile = ['--passphrase-file', join(dir, 'new'), ...h]
  assertOneLineError(t, await runCliInProcess(['passwd', ...newFile]), /^Error: no new passphrase: set DMESS_NEW_PASSPHRASE, pass --new-passphrase-file, or run in a terminal$/m)
  assertOneLineError(t, await runCliInProcess(['passwd', ...newFile], { env: { DMESS_NEW_PASSPHRASE: 'x' } }), /has 1 characters; use at least 8/)
  await writeFile(join(dir, 'empty'), '\n')
  assertOneLineError(t, await runCliInProcess(['passwd', ...newFile, '--new-passphrase-file', join(dir, 'empty')]), /passphrase file .*empty is empty/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'list', '--passphrase-file', join(dir, 'empty'), ...h]), /is empty/) // not "wrong passphrase"
  r = await runCliInProcess(['passwd', ...newFile], { env: { DMESS_NEW_PASSPHRASE: 'third passphrase' } })
  t.equal(r.code, 0, r.stderr)
  t.equal((await runCliInProcess(['contacts', 'list', ...h], { env: { DMESS_PASSPHRASE: 'third passphrase' } })).code, 0)
  t.equal(JSON.parse((await runCliInProcess(['id', '--json', ...h])).stdout).fingerprint, alice.fingerprint, 'same identity')
})
