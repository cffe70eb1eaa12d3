// User mistakes on the command line (one-line error, non-zero exit) through the built commands in temporary homes,
// run in this process (test/helpers/cli-inproc.ts: oclif's parsing, BaseCommand's error line and exit code).
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempHome, assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { PW, quickHome } from '../helpers/profiles.js'

t.test('user mistakes: one line on stderr, non-zero exit, no stack', async t => {
  const alice = await quickHome(t, 'alice')
  const bob = await quickHome(t, 'bob')
  const empty = await tempHome(t)
  const h = ['--home', alice.home]
  await runCliInProcess(['contacts', 'add', bob.invite, ...h], { env: PW })

  assertOneLineError(t, await runCliInProcess(['contacts', 'list', '--home', empty], { env: PW }), /no identity.*dmess init/)
  assertOneLineError(t, await runCliInProcess(['id', '--home', empty]), /no identity/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'list', ...h], { env: { DMESS_PASSPHRASE: 'nope' } }), /wrong passphrase/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'list', ...h]), /no passphrase/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'list', '--passphrase-file', '/nonexistent/pw', ...h]), /cannot read passphrase file/)
  const typo = bob.fingerprint.slice(0, 10) + (bob.fingerprint[10] === 'q' ? 'p' : 'q') + bob.fingerprint.slice(11)
  assertOneLineError(t, await runCliInProcess(['contacts', 'add', typo, ...h], { env: PW }), /checksum/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'add', 'abc', ...h], { env: PW }), /fingerprint has \d+ characters/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'add', bob.invite.slice(0, -3), ...h], { env: PW }), /invite/i)
  assertOneLineError(t, await runCliInProcess(['contacts', 'add', bob.invite, ...h], { env: PW }), /already a contact/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'add', alice.invite, ...h], { env: PW }), /your own/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'remove', 'nobody', ...h], { env: PW }), /no contact matches/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'rename', 'bob', '', ...h], { env: PW }), /must not be empty/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'nonsense', ...h]), /"contacts nonsense" is not a dmess command/)
  assertOneLineError(t, await runCliInProcess(['init', '--home', empty], { env: { DMESS_PASSPHRASE: '' } }), /must not be empty/)
  assertOneLineError(t, await runCliInProcess(['init', '--home', empty], { env: { DMESS_PASSPHRASE: 'short' } }), /has 5 characters; use at least 8/)
  // a home that cannot be one: named, in one line, and the command returns
  const file = join(empty, 'a-file')
  await writeFile(file, 'x')
  assertOneLineError(t, await runCliInProcess(['init', '--home', file], { env: PW }), /a-file is a file, not a directory/)
  assertOneLineError(t, await runCliInProcess(['config', 'set', 'port', '1', '--home', join(file, 'sub')]), /cannot use .*sub as the home: .*a-file is a file/)
  assertOneLineError(t, await runCliInProcess(['init', '--home', '/proc/dmess-home'], { env: PW, timeoutMs: 30_000 }), /cannot create the home \/proc\/dmess-home/)
})
