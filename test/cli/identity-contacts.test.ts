// Issue 2's CLI paths through the real built binary in temporary homes.
import t from 'tap'
import { readFile, writeFile, stat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { runCli, tempHome, assertOneLineError } from '../helpers/cli.js'
import { parseFingerprint } from '../../src/crypto/identity.js'

const PW = { DMESS_PASSPHRASE: 'correct horse battery staple' }

async function initHome (t: Parameters<typeof tempHome>[0], name: string): Promise<{ home: string, fingerprint: string, invite: string }> {
  const home = await tempHome(t)
  const r = await runCli(['init', '--name', name, '--json', '--home', home], { env: PW })
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`)
  const j = JSON.parse(r.stdout) as { fingerprint: string, invite: string }
  return { home, ...j }
}

t.test('init creates an identity; id shows it without a passphrase', async t => {
  const alice = await initHome(t, 'alice')
  t.equal(parseFingerprint(alice.fingerprint), alice.fingerprint, 'fingerprint is canonical')
  t.equal((await stat(join(alice.home, 'identity.keystore'))).mode & 0o777, 0o600, 'keystore is 0600')
  t.equal((await stat(alice.home)).mode & 0o777, 0o700, 'home is 0700')

  const id = await runCli(['id', '--json', '--home', alice.home])
  t.equal(id.code, 0, id.stderr)
  const j = JSON.parse(id.stdout) as Record<string, string>
  t.equal(j.fingerprint, alice.fingerprint)
  t.equal(j.invite, alice.invite)
  t.equal(j.name, 'alice')
  t.match(j.signPublic, /^[0-9a-f]{64}$/)

  const text = await runCli(['id', '--home', alice.home, '--qr'])
  t.equal(text.code, 0)
  t.match(text.stdout, /Fingerprint:/)
  t.ok(text.stdout.split('\n').length > 15, 'draws a QR code')

  const again = await runCli(['init', '--home', alice.home], { env: PW })
  assertOneLineError(t, again, /already exists.*--force/)
  t.equal(JSON.parse((await runCli(['id', '--json', '--home', alice.home])).stdout).fingerprint, alice.fingerprint, 'refused init changed nothing')

  const forced = await runCli(['init', '--force', '--json', '--home', alice.home], { env: PW })
  t.equal(forced.code, 0, forced.stderr)
  t.not(JSON.parse(forced.stdout).fingerprint, alice.fingerprint, 'new identity')
  const backups = (await readdir(alice.home)).filter(f => f.includes('.replaced-'))
  t.ok(backups.some(f => f.startsWith('identity.keystore.replaced-')), 'old keystore kept as a backup')
})

t.test('contacts add / list / verify / rename / remove', async t => {
  const alice = await initHome(t, 'alice')
  const bob = await initHome(t, 'bob')
  const carol = await initHome(t, 'carol')
  const h = ['--home', alice.home]

  let r = await runCli(['contacts', 'add', bob.invite, ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /Added bob/)
  r = await runCli(['contacts', 'add', carol.fingerprint, '--name', 'caz', ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)

  r = await runCli(['contacts', 'list', '--json', ...h], { env: PW })
  const list = JSON.parse(r.stdout) as Array<{ fingerprint: string, name: string, verified: boolean, keys: boolean }>
  t.same(list.map(c => c.name).sort(), ['bob', 'caz'])
  t.equal(list.find(c => c.name === 'bob')?.keys, true)
  t.equal(list.find(c => c.name === 'caz')?.keys, false, 'a bare fingerprint carries no keys yet')

  // the safety number is the same from both sides
  r = await runCli(['contacts', 'verify', 'bob', '--json', ...h], { env: PW })
  const fromAlice = JSON.parse(r.stdout) as { safetyNumber: string, verified: boolean }
  t.equal(fromAlice.verified, false, '--json alone does not mark verified')
  await runCli(['contacts', 'add', alice.invite, '--home', bob.home], { env: PW })
  r = await runCli(['contacts', 'verify', alice.fingerprint.slice(0, 8), '--json', '--home', bob.home], { env: PW })
  t.equal((JSON.parse(r.stdout) as { safetyNumber: string }).safetyNumber, fromAlice.safetyNumber)
  t.match(fromAlice.safetyNumber, /^(\d{5} ){11}\d{5}$/)

  r = await runCli(['contacts', 'verify', 'bob', ...h], { env: PW })
  t.equal(r.code, 0)
  t.match(r.stdout, /not marked verified/, 'without a terminal or --yes, nothing is confirmed')
  r = await runCli(['contacts', 'verify', 'bob', '--yes', ...h], { env: PW })
  t.match(r.stdout, /is verified/)
  r = await runCli(['contacts', 'list', '--json', ...h], { env: PW })
  t.equal((JSON.parse(r.stdout) as typeof list).find(c => c.name === 'bob')?.verified, true)

  assertOneLineError(t, await runCli(['contacts', 'verify', 'caz', ...h], { env: PW }), /not known yet/)
  // an invite for a contact known only by fingerprint fills in the keys
  r = await runCli(['contacts', 'add', carol.invite, ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /Updated keys of caz/)

  r = await runCli(['contacts', 'rename', bob.fingerprint.slice(0, 6), 'robert', ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  r = await runCli(['contacts', 'remove', 'robert', ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  r = await runCli(['contacts', 'list', '--json', ...h], { env: PW })
  t.same((JSON.parse(r.stdout) as typeof list).map(c => c.name), ['caz'])

  // the contact name is not stored in clear on disk
  const files = await readdir(join(alice.home, 'db'))
  let raw = ''
  for (const f of files.filter(f => /\.(log|ldb)$/.test(f))) raw += (await readFile(join(alice.home, 'db', f))).toString('latin1')
  t.notMatch(raw, /caz/, 'contact names are encrypted at rest')
})

t.test('user mistakes: one line on stderr, non-zero exit, no stack', async t => {
  const alice = await initHome(t, 'alice')
  const bob = await initHome(t, 'bob')
  const empty = await tempHome(t)
  const h = ['--home', alice.home]
  await runCli(['contacts', 'add', bob.invite, ...h], { env: PW })

  assertOneLineError(t, await runCli(['contacts', 'list', '--home', empty], { env: PW }), /no identity.*dmess init/)
  assertOneLineError(t, await runCli(['id', '--home', empty]), /no identity/)
  assertOneLineError(t, await runCli(['contacts', 'list', ...h], { env: { DMESS_PASSPHRASE: 'nope' } }), /wrong passphrase/)
  assertOneLineError(t, await runCli(['contacts', 'list', ...h]), /no passphrase/)
  assertOneLineError(t, await runCli(['contacts', 'list', '--passphrase-file', '/nonexistent/pw', ...h]), /cannot read passphrase file/)
  const typo = bob.fingerprint.slice(0, 10) + (bob.fingerprint[10] === 'q' ? 'p' : 'q') + bob.fingerprint.slice(11)
  assertOneLineError(t, await runCli(['contacts', 'add', typo, ...h], { env: PW }), /checksum/)
  assertOneLineError(t, await runCli(['contacts', 'add', 'abc', ...h], { env: PW }), /fingerprint has \d+ characters/)
  assertOneLineError(t, await runCli(['contacts', 'add', bob.invite.slice(0, -3), ...h], { env: PW }), /invite/i)
  assertOneLineError(t, await runCli(['contacts', 'add', bob.invite, ...h], { env: PW }), /already a contact/)
  assertOneLineError(t, await runCli(['contacts', 'add', alice.invite, ...h], { env: PW }), /your own/)
  assertOneLineError(t, await runCli(['contacts', 'remove', 'nobody', ...h], { env: PW }), /no contact matches/)
  assertOneLineError(t, await runCli(['contacts', 'rename', 'bob', '', ...h], { env: PW }), /must not be empty/)
  assertOneLineError(t, await runCli(['contacts', 'nonsense', ...h]), /not found/)
  assertOneLineError(t, await runCli(['init', '--home', empty], { env: { DMESS_PASSPHRASE: '' } }), /must not be empty/)
})

/** A well-formed file that claims format version 9: both checksums recomputed (proto-spec/keystore.md). */
function newerVersion (good: Buffer): Buffer {
  const b = Buffer.from(good)
  b.writeUInt16BE(9, 8)
  createHash('sha256').update(b.subarray(0, 72)).digest().copy(b, 72, 0, 8)
  createHash('sha256').update(b.subarray(0, b.length - 32)).digest().copy(b, b.length - 32)
  return b
}

t.test('a damaged keystore gives a distinct one-line error each and is left untouched', async t => {
  const alice = await initHome(t, 'alice')
  const path = join(alice.home, 'identity.keystore')
  const good = await readFile(path)
  const cases: Array<[string, Buffer, RegExp]> = [
    ['truncated', good.subarray(0, good.length - 7), /truncated/i],
    ['corrupted', Buffer.from(good.map((b, i) => i === good.length - 40 ? b ^ 0x10 : b)), /corrupt/i],
    ['newer version', newerVersion(good), /newer/i]
  ]
  for (const [what, bytes, pattern] of cases) {
    await writeFile(path, bytes)
    const r = await runCli(['contacts', 'list', '--home', alice.home], { env: PW })
    assertOneLineError(t, r, pattern)
    t.same(await readFile(path), bytes, `${what}: file untouched`)
  }
  await writeFile(path, good)
  t.equal((await runCli(['contacts', 'list', '--home', alice.home], { env: PW })).code, 0, 'the original opens again')
})

t.test('passwd changes the passphrase; the old one stops working', async t => {
  const alice = await initHome(t, 'alice')
  const h = ['--home', alice.home]
  const dir = await tempHome(t)
  await writeFile(join(dir, 'new'), 'new passphrase\n')
  let r = await runCli(['passwd', '--new-passphrase-file', join(dir, 'new'), ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  assertOneLineError(t, await runCli(['contacts', 'list', ...h], { env: PW }), /wrong passphrase/)
  r = await runCli(['contacts', 'list', '--passphrase-file', join(dir, 'new'), ...h])
  t.equal(r.code, 0, r.stderr)
  r = await runCli(['passwd', ...h], { env: { DMESS_PASSPHRASE: 'bad', DMESS_NEW_PASSPHRASE: 'x' } })
  assertOneLineError(t, r, /wrong passphrase/)
  r = await runCli(['passwd', '--passphrase-file', join(dir, 'new'), ...h], { env: { DMESS_NEW_PASSPHRASE: 'third' } })
  t.equal(r.code, 0, r.stderr)
  t.equal((await runCli(['contacts', 'list', ...h], { env: { DMESS_PASSPHRASE: 'third' } })).code, 0)
  t.equal(JSON.parse((await runCli(['id', '--json', ...h])).stdout).fingerprint, alice.fingerprint, 'same identity')
})
