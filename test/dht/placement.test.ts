// dht.md §1.1 (BEP 42 placement) and §8.1 (dangerous contact addresses): ids are tied to the IP
// they are seen at, so keys ground at one address reach only 8 regions of the id space; contacts
// that break placement, or point at loopback, multicast or a stranger's LAN, are never used.
import t from 'tap'
import { nodeIdAt, nodeIdOf, idValidFor, commonPrefixLength, placementCrc } from '../../src/dht/ids.js'
import { RoutingTable } from '../../src/dht/routing-table.js'
import { contactAllowed, usableContacts } from '../../src/dht/address-policy.js'
import { parseIp } from '../../src/io/address.js'
import { testRng } from '../helpers/seed.js'
import { makeNet, makeNode, RawPeer } from './helpers.js'
import { createRng } from '../../src/sim/rng.js'
import { DhtType } from '../../src/dht/constants.js'

t.test('BEP 42 example ids: our crc gives their first 21 bits', async t => {
  // bittorrent.org/beps/bep_0042.html, the table of example node ids (IP, rand, id prefix)
  const examples: Array<[string, number, number]> = [
    ['124.31.75.21', 1, 0x5fbfbf], ['21.75.31.124', 86, 0x5a3ce9], ['65.23.51.170', 22, 0xa5d432],
    ['84.124.73.14', 65, 0x1b0321], ['43.213.53.83', 90, 0xe56f6c]
  ]
  for (const [ip, rand, prefix] of examples) {
    t.equal((placementCrc(parseIp(ip)!, rand & 7) >>> 8) & 0xfffff8, prefix & 0xfffff8, ip)
  }
})

t.test('an id is placed by the public IP it is seen at; exempt IPs keep the key hash', async t => {
  const rng = testRng(t, 0x42b1, 'DHT keys')
  const key = rng.bytes(32)
  const at = nodeIdAt(key, '203.0.113.9:4000')
  t.same(at.subarray(3), nodeIdOf(key).subarray(3), 'all but the first bytes are the key hash')
  t.ok(idValidFor(at, '203.0.113.9:1'), 'valid for its IP (any port)')
  t.notOk(idValidFor(at, '203.0.114.9:4000'), 'not for another IP')
  t.notOk(idValidFor(nodeIdOf(key), '203.0.113.9:4000'), 'the bare key hash is not valid at a public IP')
  for (const a of ['127.0.0.1:4000', '10.1.2.3:4000', '192.168.1.5:4000', '[fd00::1]:4000', '[::1]:4000']) {
    t.same(nodeIdAt(key, a), nodeIdOf(key), `${a}: exempt, the key hash`)
    t.ok(idValidFor(rng.bytes(32), a), `${a}: any id is valid`)
  }
  t.same(nodeIdAt(key, '[2001:db8:0:1::5]:4000').subarray(3), nodeIdOf(key).subarray(3), 'IPv6 too')
})

t.test('grinding keys at one IP reaches 8 regions of the id space, not a chosen key', async t => {
  const rng = testRng(t, 0x42b2, 'ground keys and target')
  const target = rng.bytes(32)
  const prefixes = new Set<number>()
  let bestPlaced = 0
  let bestFree = 0
  for (let i = 0; i < 20_000; i++) {
    const key = rng.bytes(32)
    const id = nodeIdAt(key, '198.51.100.77:4000')
    prefixes.add((id[0]! << 13) | (id[1]! << 5) | (id[2]! >> 3))
    bestPlaced = Math.max(bestPlaced, commonPrefixLength(id, target))
    bestFree = Math.max(bestFree, commonPrefixLength(nodeIdOf(key), target))
  }
  t.comment(JSON.stringify({ metric: 'dht_placement_regions_from_one_ip', value: prefixes.size, unit: 'regions of 2^21' }))
  t.comment(JSON.stringify({ metric: 'dht_placement_best_shared_bits', placed: bestPlaced, unplaced: bestFree, unit: 'bits shared with target, 20000 keys' }))
  t.ok(prefixes.size <= 8, `${prefixes.size} distinct first-21-bit regions from 20,000 keys`)
  // the most the IP allows: the best of its 8 regions (only a full 21-bit match lets keys go further)
  let regionBound = 0
  for (let r = 0; r < 8; r++) {
    const crc = placementCrc(parseIp('198.51.100.77')!, r)
    const region = new Uint8Array(32)
    region.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xf8])
    regionBound = Math.max(regionBound, Math.min(21, commonPrefixLength(region, target)))
  }
  t.ok(bestFree >= 10, `without placement 20,000 keys get within ${bestFree} bits of the target`)
  t.ok(regionBound === 21 || bestPlaced <= regionBound, `with placement the best is ${bestPlaced} bits, bounded by the IP's regions (${regionBound}), not the number of keys`)
})

t.test('the routing table refuses an id not valid for its address', async t => {
  const rng = testRng(t, 0x42b3, 'ids')
  const table = new RoutingTable(rng.bytes(32))
  const key = rng.bytes(32)
  t.equal(table.add(nodeIdOf(key), '203.0.113.9:4000', 0).status, 'invalid-id')
  t.notOk(table.canAdd(nodeIdOf(key), '203.0.113.9:4000'))
  t.equal(table.add(nodeIdAt(key, '203.0.113.9:4000'), '203.0.113.9:4000', 0).status, 'added')
})

t.test('contacts at dangerous addresses are refused unless we run on loopback', async t => {
  const internet = '198.51.100.1:4000'
  const lan = '192.168.1.1:4000'
  for (const a of ['127.0.0.1:53', '[::1]:53', '169.254.1.1:4000', '[fe80::1]:4000', '224.0.0.251:5353', '255.255.255.255:9', '0.0.0.0:9', '[ff02::1]:9', '240.0.0.1:4000']) {
    t.notOk(contactAllowed(a, internet, 'public'), `${a} from the Internet`)
    t.notOk(contactAllowed(a, lan, 'private'), `${a} from the LAN`)
  }
  t.notOk(contactAllowed('10.0.0.5:4000', internet, 'public'), 'a private address from a public source')
  t.ok(contactAllowed('10.0.0.5:4000', lan, 'private'), 'a private address from a LAN peer')
  t.ok(contactAllowed('203.0.113.5:4000', internet, 'public'), 'a public address')
  t.ok(contactAllowed('127.0.0.2:4000', '127.0.0.1:4000', 'loopback'), 'loopback when we run on loopback')
  t.ok(contactAllowed('10.0.0.5:4000', '127.0.0.1:4000', 'loopback'))
  t.notOk(contactAllowed('224.0.0.1:9', '127.0.0.1:4000', 'loopback'), 'never multicast')

  const rng = testRng(t, 0x42b4, 'keys')
  const good = { id: nodeIdAt(rng.bytes(32), '203.0.113.5:4000'), addr: '203.0.113.5:4000' }
  const misplaced = { id: rng.bytes(32), addr: '203.0.113.6:4000' }
  const loop = { id: rng.bytes(32), addr: '127.0.0.1:53' }
  let refused = 0
  const nodes = [good, misplaced, loop]
  const out = usableContacts(nodes, internet, 'public', () => refused++)
  t.same(out, [good], 'only the placed public contact is kept')
  t.equal(refused, 2, 'the others counted')
  t.equal(nodes.length, 3, 'the answer itself is not edited')
  t.equal(usableContacts([good], internet, 'public', () => refused++).length, 1)
})

t.test('a lookup never sends to the dangerous or misplaced contacts an answer names', async t => {
  const net = makeNet(7)
  const rng = createRng(7)
  const a = makeNode(net, '198.51.100.1:4000', rng)
  const liar = new RawPeer(net, '203.0.113.66:4000')
  const targets = {
    loopback: new RawPeer(net, '127.0.0.1:53'),
    lan: new RawPeer(net, '10.0.0.1:4000'),
    misplaced: new RawPeer(net, '203.0.113.7:4000'),
    good: new RawPeer(net, '203.0.113.8:4000')
  }
  const target = rng.bytes(32)
  let done = false
  a.startLookup({ mode: 'find-node', target, onDone: () => { done = true } }, [{ id: nodeIdAt(liar.key, '203.0.113.66:4000'), addr: '203.0.113.66:4000' }])
  net.advance(15)
  const ask = liar.got[0]?.msg
  t.equal(ask?.type, DhtType.FIND_NODE, 'the lookup asks the liar')
  liar.send('198.51.100.1:4000', {
    type: DhtType.NODES,
    nodes: [
      { id: target.slice(), addr: '127.0.0.1:53' }, // an id right at the target, on our own host
      { id: target.slice(), addr: '10.0.0.1:4000' },
      { id: target.slice(), addr: '203.0.113.7:4000' }, // not valid for that IP
      { id: nodeIdAt(targets.good.key, '203.0.113.8:4000'), addr: '203.0.113.8:4000' }
    ]
  }, ask!.txid)
  net.advance(2000)
  t.ok(done, 'the lookup finished')
  t.equal(targets.loopback.got.length + targets.lan.got.length + targets.misplaced.got.length, 0, 'nothing sent to loopback, a stranger\'s LAN or a misplaced id')
  t.equal(targets.good.got[0]?.msg?.type, DhtType.FIND_NODE, 'the valid public contact is asked')
  t.equal(a.stats().drops['refused-contact'], 3, 'the three others counted')
})
