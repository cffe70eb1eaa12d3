// A message that is empty or only white space is refused by the daemon (src/messaging/actions.ts
// checkText), with one message for every client: `dmess send`, `messages.sendMany`, the chat.
import t from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { testnet } from './helpers.js'

t.test('an empty or white-space message is refused and nothing is stored', async t => {
  const net = await testnet(t, 3, 43)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  for (const text of ['', ' ', '   \t ', '\n\n', '\u00a0\u2003']) {
    await t.rejects(net.drive(alice.actions.send(bob.fingerprint, text)), { code: 'BAD_ARGUMENT', message: 'the message is empty' }, JSON.stringify(text))
  }
  await t.rejects(net.drive(alice.actions.sendMany(bob.fingerprint, ['fine', '  '])), { code: 'BAD_ARGUMENT', message: 'the message is empty' }, 'one blank text refuses the batch')
  t.same(await alice.store.history(bob.fingerprint, { limit: 10 }), [], 'nothing stored')
  const ok = await net.drive(alice.actions.send(bob.fingerprint, '  padded  '))
  t.equal((await alice.store.getMessage(ok.id))?.text, '  padded  ', 'text with white space around is sent as typed')
})
