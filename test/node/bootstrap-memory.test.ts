// Bootstrap without a server of ours (dht.md §6.4, identity.md §7.1), with whole nodes on the
// simulated testnet: a node remembers the DHT nodes it met and, restarted with an empty bootstrap
// list — or with one whose only node is down — rejoins through them, announces, and is found by
// fingerprint. A node that remembers nothing and has no list stays alone — until a contact's
// version 2 invite names where the inviter and a DHT node are: then it joins and reaches the
// inviter at once. The DHT nodes an invite names are never the inviter's contacts' nodes.
import t from 'tap'
import type { TestNode } from '../../src/node/testnet.js'
import { inviteWith } from '../../src/node/invite-current.js'
import { decodeInvite } from '../../src/crypto/invite.js'
import { BOOTSTRAP_MEMORY_FILE } from '../../src/node/bootstrap-memory.js'
import { testnet } from './helpers.js'

t.test('restarted with no working bootstrap list, a node rejoins through the nodes it remembered', async t => {
  const net = await testnet(t, 8, 61)
  await net.drive(Promise.all(net.nodes.map(async n => await n.dht!.ready())))
  await net.advance(1000)
  await net.stop(5)
  await net.stop(6)
  await net.stop(0) // everyone's configured bootstrap node is gone

  const five = await net.restart(5, { bootstrap: [] })
  await net.drive(five.dht!.ready(), 60_000, 'node 5 joining')
  t.equal(five.dht!.joinedVia, 'remembered', 'empty list: joined through remembered nodes')
  t.ok(five.dht!.tableSize >= 3, `node 5 knows ${five.dht!.tableSize} DHT nodes`)

  const six = await net.restart(6) // its list names node 0 only, which does not answer
  await net.drive(six.dht!.ready(), 60_000, 'node 6 joining')
  t.equal(six.dht!.joinedVia, 'remembered', 'silent list: joined through remembered nodes')

  const seeker = net.nodes[2]!
  for (const n of [five, six]) {
    const found = await net.drive(seeker.dht!.lookup(n.fingerprint), 60_000, 'a lookup')
    t.ok(found !== null, `node ${n.index}'s new record is found by fingerprint`)
    t.ok(found?.addresses.some(a => a.port === n.address.port), 'with its address')
  }
})

t.test('a node that remembers nothing joins through a contact\'s invite, and dials the inviter', async t => {
  const net = await testnet(t, 5, 62)
  await net.drive(Promise.all(net.nodes.map(async n => await n.dht!.ready())))
  const lone = net.nodes[4]! as TestNode
  await net.stop(4)
  await lone.opts.world.storage.remove(`${lone.opts.paths.home}/${BOOTSTRAP_MEMORY_FILE}`)
  const alone = await net.restart(4, { bootstrap: [] })
  await net.drive(alone.dht!.ready())
  t.equal(alone.dht!.joinedVia, 'none', 'no list, no memory: alone (the case an invite solves)')
  t.equal(alone.dht!.tableSize, 0)

  const inviter = net.nodes[2]!
  const friend = net.nodes[3]!
  const friendAt = `${friend.address.host}:${friend.address.port}`
  t.ok(inviter.dht!.candidates().includes(friendAt), 'the inviter met its friend\'s node in the DHT')
  await net.befriend(inviter, friend)
  await net.until(() => inviter.seen.some(e => e.type === 'presence' && e.peer === friend.fingerprint && e.state !== 'offline'), 30_000, 'the friend online')
  const addrs = inviter.dht!.inviteAddresses()
  t.same(addrs.node, [`${inviter.address.host}:${inviter.address.port}`], 'the invite names where the inviter is')
  t.ok(addrs.dht.length >= 1 && addrs.dht.length <= 3, `and ${addrs.dht.length} DHT nodes it met`)
  t.notOk(addrs.dht.includes(friendAt), 'but never a contact\'s node: an invite does not tell who your contacts are')
  const invite = inviteWith(inviter.identity, 'carol', addrs)
  t.same(decodeInvite(invite).addresses, addrs)
  t.comment(JSON.stringify({ metric: 'invite-v2-length', value: invite.length, unit: 'characters' }))

  await net.addContact(alone, invite)
  await net.until(() => alone.dht!.joinedVia === 'remembered' && alone.dht!.tableSize > 0, 30_000, 'a join through the invite')
  await net.until(() => inviter.actions.requests().some(r => r.fingerprint === alone.fingerprint), 30_000, 'the contact request at the inviter')
  const row = alone.actions.peers().find(p => p.fingerprint === inviter.fingerprint)
  t.equal(row?.address, `${inviter.address.host}:${inviter.address.port}`, 'dialled at the invite\'s address')

  // and the next start needs neither list nor invite
  await net.drive(alone.dht!.rememberNow())
  await net.stop(4)
  const again = await net.restart(4, { bootstrap: [] })
  await net.drive(again.dht!.ready())
  t.equal(again.dht!.joinedVia, 'remembered', 'restarted: joins through what the invite gave it')
})
