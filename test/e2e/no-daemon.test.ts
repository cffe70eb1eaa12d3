// The messaging commands without a running daemon (proto-spec/ipc.md §4): those that need one say so in one
// line and exit non-zero; history and search open the store themselves (with the passphrase).
import t from 'tap'
import { assertOneLineError } from '../helpers/cli.js'
import { cli, cliResult, makeNodes, type Node } from './helpers.js'

t.setTimeout(300_000)

t.test('commands that need the daemon fail in one line; history and search work on the store', async t => {
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  for (const args of [['send', 'bob', 'hi'], ['read', 'bob'], ['peers'], ['requests'], ['requests', 'accept', 'abcd'], ['block', 'bob'], ['unblock', 'bob'], ['presence', 'away']]) {
    assertOneLineError(t, await cliResult(alice, args), /no dmess daemon is running for .*dmess daemon --detach/)
  }
  assertOneLineError(t, await cliResult(alice, ['history', 'bob']), /no contact matches "bob"/)
  await cli(alice, ['contacts', 'add', bob.invite])
  t.equal((await cli(alice, ['history', 'bob'])).trim(), 'No messages yet.')
  t.same(JSON.parse(await cli(alice, ['history', 'bob', '--json'])), [])
  t.same(JSON.parse(await cli(alice, ['search', 'anything', '--json'])), [])
  const r = await cliResult(alice, ['send', 'bob', 'hi', '--wait', 'soon'])
  t.not(r.code, 0, 'a bad --wait is refused')
})
