// The remembered bootstrap candidates (dht.md §6.4): a bounded list, most recently useful first;
// the file holding it is sealed to the identity (another identity, or a flipped bit, reads as
// empty); and `contacts add` with a version 2 invite hands its addresses on (identity.md §7.1).
import t from 'tap'
import { BootstrapCandidates, MAX_BOOTSTRAP_CANDIDATES } from '../../src/dht/bootstrap-candidates.js'
import { BootstrapMemory } from '../../src/node/bootstrap-memory.js'
import { memoryStorage } from '../../src/io/storage.js'
import { generateIdentity, publicIdentityOf } from '../../src/crypto/identity.js'
import { encodeInvite, type InviteAddresses } from '../../src/crypto/invite.js'
import { openStore } from '../../src/store/index.js'
import { localCall } from '../../src/daemon/rpc-methods.js'
import { randomBytes } from '../../src/crypto/primitives.js'

t.test('the list keeps the most recently useful first, bounded, canonical', async t => {
  const list = new BootstrapCandidates()
  list.note('192.0.2.1:47400', 'dht', 100)
  list.note('192.0.2.2:47400', 'invite', 300)
  list.note('192.0.2.1:47400', 'dht', 500) // answered again
  list.note('[2001:db8:0::1]:47400', 'contact', 200)
  list.note('not an address', 'dht', 900)
  t.same(list.best(), ['192.0.2.1:47400', '192.0.2.2:47400', '[2001:db8::1]:47400'])
  t.same(list.best(10, ['192.0.2.2:47400']), ['192.0.2.1:47400', '[2001:db8::1]:47400'], 'the configured list is left out')
  list.note('192.0.2.2:47400', 'dht', 50)
  t.equal(list.snapshot().find(c => c.addr === '192.0.2.2:47400')?.at, 300, 'an older sighting does not move it back')
  for (let i = 0; i < 200; i++) list.note(`198.51.100.${i % 250}:${1000 + i}`, 'dht', 1000 + i)
  t.equal(list.size, MAX_BOOTSTRAP_CANDIDATES, 'bounded')
  t.equal(list.best(1)[0], '198.51.100.199:1199', 'the newest survives')
})

t.test('the file opens only under its identity; damage reads as empty', async t => {
  const storage = memoryStorage()
  const alice = generateIdentity()
  const path = '/home/dht.peers'
  const m = new BootstrapMemory(path, alice.dhSecret, storage)
  await m.add(['192.0.2.7:47400', '198.51.100.9:47400'], 'invite', 1000)
  await m.add(['203.0.113.1:47400'], 'dht', 2000)
  t.same((await m.load()).best(), ['203.0.113.1:47400', '192.0.2.7:47400', '198.51.100.9:47400'])
  const bytes = (await storage.readFile(path))!
  t.notOk(Buffer.from(bytes).toString('latin1').includes('192.0.2.7'), 'no address in the clear')
  t.equal((await new BootstrapMemory(path, generateIdentity().dhSecret, storage).load()).size, 0, 'another identity reads nothing')
  const flipped = bytes.slice()
  flipped[flipped.length - 3]! ^= 1
  await storage.writeFileAtomic(path, flipped)
  t.equal((await m.load()).size, 0, 'a damaged file reads as empty')
  await m.close()
  await m.save(new BootstrapCandidates([{ addr: '192.0.2.9:1', at: 1, source: 'dht' }]))
  t.same(await storage.readFile(path), flipped, 'nothing is written after close')
})

t.test('contacts add with a version 2 invite hands its addresses on; a version 1 invite has none', async t => {
  const me = generateIdentity()
  const bob = generateIdentity()
  const carol = generateIdentity()
  const store = await openStore('/db', randomBytes(32), { storage: memoryStorage() })
  t.teardown(async () => { await store.close() })
  const seeded: Array<[string, InviteAddresses]> = []
  const call = localCall({ store, identity: me, now: () => 1, inviteSeed: async (fp, a) => { seeded.push([fp, a]) } })
  const addresses = { node: ['203.0.113.5:47474'], dht: ['198.51.100.1:47400'] }
  await call('contacts.add', { who: encodeInvite(publicIdentityOf(bob), 'bob', addresses) })
  await call('contacts.add', { who: encodeInvite(publicIdentityOf(carol), 'carol') })
  t.same(seeded, [[bob.fingerprint, addresses]])
})
