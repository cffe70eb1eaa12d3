// `dmess init` and `dmess id` through the built commands in temporary homes: the first home made
// by the binary (initHome), the rest in this process (test/helpers/cli-inproc.ts).
import t from 'tap'
import { decodeInvite } from '../../src/crypto/invite.js'
import { stat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { PW, initHome } from '../helpers/profiles.js'
import { parseFingerprint } from '../../src/crypto/identity.js'

t.test('init creates an identity; id shows it without a passphrase', async t => {
  const alice = await initHome(t, 'alice')
  t.equal(parseFingerprint(alice.fingerprint), alice.fingerprint, 'fingerprint is canonical')
  t.equal((await stat(join(alice.home, 'identity.keystore'))).mode & 0o777, 0o600, 'keystore is 0600')
  t.equal((await stat(alice.home)).mode & 0o777, 0o700, 'home is 0700')

  const id = await runCliInProcess(['id', '--json', '--home', alice.home])
  t.equal(id.code, 0, id.stderr)
  const j = JSON.parse(id.stdout) as Record<string, string>
  t.equal(j.fingerprint, alice.fingerprint)
  t.equal(j.invite, alice.invite)
  t.equal(j.name, 'alice')
  t.match(j.signPublic, /^[0-9a-f]{64}$/)

  const text = await runCliInProcess(['id', '--home', alice.home, '--qr'])
  t.equal(text.code, 0)
  t.match(text.stdout, /Fingerprint:/)
  t.ok(text.stdout.split('\n').length > 15, 'draws a QR code')

  // config "name" is what invites offer (it wins over the init name)
  t.equal((await runCliInProcess(['config', 'set', 'name', 'Alice Liddell', '--home', alice.home])).code, 0)
  const renamed = JSON.parse((await runCliInProcess(['id', '--json', '--home', alice.home])).stdout) as Record<string, string>
  t.equal(renamed.name, 'Alice Liddell')
  t.equal(decodeInvite(renamed.invite ?? '').name, 'Alice Liddell', 'the invite carries the config name')
  t.equal(decodeInvite(renamed.invite ?? '').fingerprint, alice.fingerprint)
  await runCliInProcess(['config', 'unset', 'name', '--home', alice.home])

  const again = await runCliInProcess(['init', '--home', alice.home], { env: PW })
  assertOneLineError(t, again, /already exists.*--force/)
  t.equal(JSON.parse((await runCliInProcess(['id', '--json', '--home', alice.home])).stdout).fingerprint, alice.fingerprint, 'refused init changed nothing')

  const forced = await runCliInProcess(['init', '--force', '--json', '--home', alice.home], { env: PW })
  t.equal(forced.code, 0, forced.stderr)
  t.not(JSON.parse(forced.stdout).fingerprint, alice.fingerprint, 'new identity')
  const backups = (await readdir(alice.home)).filter(f => f.includes('.replaced-'))
  t.ok(backups.some(f => f.startsWith('identity.keystore.replaced-')), 'old keystore kept as a backup')
})
