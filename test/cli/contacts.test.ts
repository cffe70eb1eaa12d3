// `dmess contacts` through the built commands in temporary homes, run in this process
// (test/helpers/cli-inproc.ts).
import t from 'tap'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { PW, quickHome } from '../helpers/profiles.js'

t.test('contacts add / list / verify / rename / remove', async t => {
  const alice = await quickHome(t, 'alice')
  const bob = await quickHome(t, 'bob')
  const carol = await quickHome(t, 'carol')
  const h = ['--home', alice.home]

  let r = await runCliInProcess(['contacts', 'add', bob.invite, ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /Added bob/)
  r = await runCliInProcess(['contacts', 'add', carol.fingerprint, '--name', 'caz', ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)

  r = await runCliInProcess(['contacts', 'list', '--json', ...h], { env: PW })
  const list = JSON.parse(r.stdout) as Array<{ fingerprint: string, name: string, verified: boolean, keys: boolean }>
  t.same(list.map(c => c.name).sort(), ['bob', 'caz'])
  t.equal(list.find(c => c.name === 'bob')?.keys, true)
  t.equal(list.find(c => c.name === 'caz')?.keys, false, 'a bare fingerprint carries no keys yet')
  const bobRow = list.find(c => c.name === 'bob') as unknown as { addedAt: unknown, lastSeen: unknown }
  t.type(bobRow.addedAt, 'number', 'addedAt in ms since the epoch, as the README promises for every time in JSON')
  t.ok(Math.abs((bobRow.addedAt as number) - Date.now()) < 3_600_000, 'and it is now-ish')
  t.equal(bobRow.lastSeen, null, 'never reached')

  // the safety number is the same from both sides
  r = await runCliInProcess(['contacts', 'verify', 'bob', '--json', ...h], { env: PW })
  const fromAlice = JSON.parse(r.stdout) as { safetyNumber: string, verified: boolean }
  t.equal(fromAlice.verified, false, '--json alone does not mark verified')
  await runCliInProcess(['contacts', 'add', alice.invite, '--home', bob.home], { env: PW })
  r = await runCliInProcess(['contacts', 'verify', alice.fingerprint.slice(0, 8), '--json', '--home', bob.home], { env: PW })
  t.equal((JSON.parse(r.stdout) as { safetyNumber: string }).safetyNumber, fromAlice.safetyNumber)
  t.match(fromAlice.safetyNumber, /^(\d{5} ){11}\d{5}$/)

  r = await runCliInProcess(['contacts', 'verify', 'bob', ...h], { env: PW })
  t.equal(r.code, 0)
  t.match(r.stdout, /not marked verified/, 'without a terminal or --yes, nothing is confirmed')
  r = await runCliInProcess(['contacts', 'verify', 'bob', '--yes', ...h], { env: PW })
  t.match(r.stdout, /is verified/)
  r = await runCliInProcess(['contacts', 'list', '--json', ...h], { env: PW })
  t.equal((JSON.parse(r.stdout) as typeof list).find(c => c.name === 'bob')?.verified, true)

  assertOneLineError(t, await runCliInProcess(['contacts', 'verify', 'caz', ...h], { env: PW }), /not known yet/)
  // an invite for a contact known only by fingerprint fills in the keys
  r = await runCliInProcess(['contacts', 'add', carol.invite, ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /Updated keys of caz/)

  r = await runCliInProcess(['contacts', 'rename', bob.fingerprint.slice(0, 6), 'robert', ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  r = await runCliInProcess(['contacts', 'remove', 'robert', ...h], { env: PW })
  t.equal(r.code, 0, r.stderr)
  r = await runCliInProcess(['contacts', 'list', '--json', ...h], { env: PW })
  t.same((JSON.parse(r.stdout) as typeof list).map(c => c.name), ['caz'])

  // the contact name is not stored in clear on disk
  const files = await readdir(join(alice.home, 'db'))
  let raw = ''
  for (const f of files.filter(f => /\.(log|ldb)$/.test(f))) raw += (await readFile(join(alice.home, 'db', f))).toString('latin1')
  t.notMatch(raw, /caz/, 'contact names are encrypted at rest')
})
