// A backup restored on a new home talks again: Alice and Bob exchange messages (a Double Ratchet
// session each way), Alice exports while her daemon runs (the unlock agent holds the store),
// stops, imports into a fresh home and starts a daemon there on
// the same address; a message each way is then delivered. The backup holds no ratchet sessions or
// prekeys (README "Backup", proto-spec/keystore.md §8): the restored node starts new sessions,
// and Bob, who still holds the old one, must accept them. Real daemons through the built binary.
import t from 'tap'
import { join } from 'node:path'
import { tempHome } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { cli, cliJson, history, ipcCall, makeNodes, startDaemon, waitForStatus, PW, type Node } from './helpers.js'

t.setTimeout(300_000)

const BOTH = { ...PW, DMESS_BACKUP_PASSPHRASE: 'the backup passphrase' }

t.test('export, import on a new home, and the contacts message each other again', async t => {
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  await cli(alice, ['contacts', 'add', bob.invite, '--name', 'bob'])
  await cli(bob, ['contacts', 'add', alice.invite, '--name', 'alice'])
  await startDaemon(t, alice, [bob])
  await startDaemon(t, bob, [alice])

  const a1 = await cliJson<{ status: string }>(alice, ['send', 'bob', 'before the move', '--wait', 'delivered', '--timeout', '60'])
  t.equal(a1.status, 'delivered')
  const b1 = await cliJson<{ status: string }>(bob, ['send', 'alice', 'got it', '--wait', 'delivered', '--timeout', '60'])
  t.equal(b1.status, 'delivered')
  const ratchet = await ipcCall(alice, 'messaging.stats', {}) as { ratchetOut?: number }
  t.ok((ratchet.ratchetOut ?? 0) > 0, 'the first conversation ran over a Double Ratchet session')

  // while her daemon runs (it holds the store): the contacts and history come over its socket,
  // the keys from the keystore under her passphrase
  const file = join(await tempHome(t), 'alice.dmbk')
  const ex = await runCliInProcess(['export', file, '--history', '--json', '--home', alice.home], { env: BOTH })
  t.equal(ex.code, 0, `export: ${ex.stderr.split('\n').find(l => l.startsWith('Error')) ?? 'exit 0'}`)
  t.match(JSON.parse(ex.stdout), { fingerprint: alice.fingerprint, contacts: 1, messages: 2 }, 'exported with the daemon running')
  await cli(alice, ['stop'])
  const moved: Node = { ...alice, name: 'alice-restored', home: join(await tempHome(t), 'home') }
  const im = await runCliInProcess(['import', file, '--home', moved.home], { env: BOTH })
  t.equal(im.code, 0, `import: ${im.stderr.trim() || 'exit 0'}`)
  t.match(im.stdout, /Restored identity .* 1 contact, 2 messages/)

  await startDaemon(t, moved, [bob])
  const a2 = await cliJson<{ id: string, status: string }>(moved, ['send', 'bob', 'after the move', '--wait', 'delivered', '--timeout', '120'])
  t.equal(a2.status, 'delivered', 'the restored Alice reaches Bob')
  const b2 = await cliJson<{ id: string, status: string }>(bob, ['send', 'alice', 'welcome back'])
  await waitForStatus(bob, 'alice', [b2.id], 'delivered', 120_000)
  t.same((await history(moved, 'bob')).map(m => [m.direction, m.text]), [['out', 'before the move'], ['in', 'got it'], ['out', 'after the move'], ['in', 'welcome back']],
    'the restored home has the exported history and the new conversation')
  t.same((await history(bob, 'alice')).map(m => [m.direction, m.text]),
    [['in', 'before the move'], ['out', 'got it'], ['in', 'after the move'], ['out', 'welcome back']],
    'Bob has both conversations, in order')
})
