// `dmess history` after `dmess contacts remove` (src/daemon/rpc-messaging.ts): the conversation
// stays in the store and is read by the former contact's fingerprint or a prefix of it; names
// no longer find it, and a prefix two conversations share is refused with a clear error. The
// IPC methods run in process on a store in memory, as the CLI runs them without a daemon.
import t from 'tap'
import { generateIdentity, publicIdentityOf } from '../../src/crypto/identity.js'
import { encodeInvite } from '../../src/crypto/invite.js'
import { openStore } from '../../src/store/index.js'
import { memoryStorage } from '../../src/io/storage.js'
import { localCall } from '../../src/daemon/rpc-methods.js'
import { randomBytes } from '../../src/crypto/primitives.js'

t.test('a removed contact\'s history is read by fingerprint or prefix', async t => {
  const me = generateIdentity()
  const bob = generateIdentity()
  const store = await openStore('/db', randomBytes(32), { storage: memoryStorage() })
  t.teardown(async () => { await store.close() })
  const call = localCall({ store, identity: me, now: () => 1_000, inviteSeed: async () => {} })
  await call('contacts.add', { who: encodeInvite(publicIdentityOf(bob), 'bob') })
  await store.addMessages([
    { id: 'a1', peer: bob.fingerprint, direction: 'in', text: 'hi from bob', timestamp: 1, receivedAt: 1, status: 'received', read: false },
    { id: 'a2', peer: bob.fingerprint, direction: 'out', text: 'hi bob', timestamp: 2, receivedAt: 2, status: 'sent', read: true }
  ])
  await call('contacts.remove', { contact: 'bob' })

  await t.rejects(call('messages.history', { contact: 'bob' }), { code: 'CONTACT_NOT_FOUND' }, 'the name is gone with the contact')
  for (const name of [bob.fingerprint, bob.fingerprint.slice(0, 8), bob.fingerprint.slice(0, 4).toUpperCase()]) {
    const r = await call('messages.history', { contact: name })
    t.equal(r.peer, bob.fingerprint, `found by ${name}`)
    t.equal(r.contact, null, 'no longer a contact')
    t.same(r.messages.map(m => m.text), ['hi from bob', 'hi bob'])
  }
  await t.rejects(call('messages.history', { contact: bob.fingerprint.slice(0, 3) }), { code: 'CONTACT_NOT_FOUND' }, 'a prefix under 4 characters names nothing')

  // a second former conversation whose fingerprint shares 6 characters with Bob's: ambiguous, said so
  const carol = bob.fingerprint.slice(0, 6) + [...bob.fingerprint.slice(6)].map(ch => ch === 'a' ? 'b' : 'a').join('')
  await store.addMessages([{ id: 'c1', peer: carol, direction: 'in', text: 'hi from carol', timestamp: 3, receivedAt: 3, status: 'received', read: false }])
  await t.rejects(call('messages.history', { contact: bob.fingerprint.slice(0, 6) }), { code: 'CONTACT_AMBIGUOUS', message: /matches 2 conversations/ })
  t.same((await call('messages.history', { contact: carol.slice(0, 7) })).messages.map(m => m.text), ['hi from carol'])
})
