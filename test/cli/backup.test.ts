// `dmess export` / `dmess import` through the built commands, run in this process
// (test/helpers/cli-inproc.ts): a backup restores a working identity into an empty home (the same
// fingerprint, the contacts, with --history the messages); a wrong passphrase, a damaged file, a
// foreign file and a home that has an identity are one line each.
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempHome, assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { quickHome, PW } from '../helpers/profiles.js'
import { withStore } from '../../src/app/profile.js'
import { homePaths } from '../../src/config/home.js'

t.setTimeout(180_000)

const BACKUP_PW = 'a different backup passphrase'
const BOTH = { ...PW, DMESS_BACKUP_PASSPHRASE: BACKUP_PW }

t.test('export, import into a new home: same identity, contacts and history', async t => {
  const alice = await quickHome(t, 'alice')
  const bob = await quickHome(t, 'bob')
  const carol = await quickHome(t, 'carol')
  const h = ['--home', alice.home]
  t.equal((await runCliInProcess(['contacts', 'add', bob.invite, '--name', 'bob', ...h], { env: PW })).code, 0)
  t.equal((await runCliInProcess(['contacts', 'add', carol.fingerprint, '--name', 'carol', ...h], { env: PW })).code, 0)
  await withStore(homePaths(alice.home), PW.DMESS_PASSPHRASE, async store => {
    await store.addMessages([
      { id: 'a'.repeat(32), peer: bob.fingerprint, direction: 'out', text: 'hello Bob', timestamp: 1000, receivedAt: 1000, status: 'delivered', read: true },
      { id: 'b'.repeat(32), peer: bob.fingerprint, direction: 'in', text: 'hi Alice', timestamp: 2000, receivedAt: 2001, status: 'received', read: false }
    ])
  })
  const dir = await tempHome(t)
  const file = join(dir, 'alice.dmbk')

  const ex = await runCliInProcess(['export', file, '--history', '--json', ...h], { env: BOTH })
  t.equal(ex.code, 0, ex.stderr)
  t.match(JSON.parse(ex.stdout), { file, fingerprint: alice.fingerprint, contacts: 2, messages: 2 })
  t.match(ex.stderr, /private keys.*forward secrecy/, 'the warning, on stderr')
  t.notMatch(await readFile(file, 'latin1'), /hello Bob|carol/, 'nothing readable in the file')

  const fresh = join(await tempHome(t), 'restored')
  const im = await runCliInProcess(['import', file, '--home', fresh], { env: BOTH })
  t.equal(im.code, 0, im.stderr)
  t.match(im.stdout, /Restored identity .* 2 contacts, 2 messages/)
  const id = JSON.parse((await runCliInProcess(['id', '--json', '--home', fresh])).stdout) as { fingerprint: string, invite: string }
  t.equal(id.fingerprint, alice.fingerprint, '`dmess id` prints the same fingerprint')
  t.equal(id.invite, alice.invite, 'and the same invite (the name came along)')
  const contacts = JSON.parse((await runCliInProcess(['contacts', 'list', '--json', '--home', fresh], { env: PW })).stdout) as Array<{ name: string, fingerprint: string }>
  t.same(contacts.map(c => [c.name, c.fingerprint]).sort(), [['bob', bob.fingerprint], ['carol', carol.fingerprint]].sort(), 'contacts listed')
  const hist = JSON.parse((await runCliInProcess(['history', 'bob', '--json', '--home', fresh], { env: PW })).stdout) as Array<{ direction: string, text: string, status: string }>
  t.same(hist.map(m => [m.direction, m.text, m.status]), [['out', 'hello Bob', 'delivered'], ['in', 'hi Alice', 'received']], 'history restored in order')

  assertOneLineError(t, await runCliInProcess(['import', file, '--home', fresh], { env: BOTH }), /identity already exists/)
  assertOneLineError(t, await runCliInProcess(['export', file, ...h], { env: BOTH }), /exists; pass --force/)
})

t.test('a wrong passphrase, a damaged file, a foreign file: one line each, nothing created', async t => {
  const alice = await quickHome(t, 'alice')
  const dir = await tempHome(t)
  const file = join(dir, 'alice.dmbk')
  t.equal((await runCliInProcess(['export', file, '--home', alice.home], { env: BOTH })).code, 0)
  const target = join(dir, 'new')
  assertOneLineError(t, await runCliInProcess(['import', file, '--home', target], { env: { ...PW, DMESS_BACKUP_PASSPHRASE: 'not the passphrase' } }), /wrong passphrase for the backup/)
  const bytes = await readFile(file)
  const damaged = Buffer.from(bytes)
  damaged[damaged.length >> 1] = (damaged[damaged.length >> 1] as number) ^ 0x01
  await writeFile(join(dir, 'damaged'), damaged)
  assertOneLineError(t, await runCliInProcess(['import', join(dir, 'damaged'), '--home', target], { env: BOTH }), /damaged or not a dmess backup/)
  await writeFile(join(dir, 'short'), bytes.subarray(0, 100))
  assertOneLineError(t, await runCliInProcess(['import', join(dir, 'short'), '--home', target], { env: BOTH }), /damaged or not a dmess backup/)
  await writeFile(join(dir, 'text'), 'hello\n')
  assertOneLineError(t, await runCliInProcess(['import', join(dir, 'text'), '--home', target], { env: BOTH }), /damaged or not a dmess backup/)
  assertOneLineError(t, await runCliInProcess(['import', join(dir, 'absent'), '--home', target], { env: BOTH }), /cannot read the backup/)
  // the keystore itself is a keystore, not a backup
  assertOneLineError(t, await runCliInProcess(['import', join(alice.home, 'identity.keystore'), '--home', target], { env: BOTH }), /wrong passphrase|not a backup/)
  t.equal((await runCliInProcess(['id', '--home', target])).code, 1, 'no identity was created by any of them')
})
