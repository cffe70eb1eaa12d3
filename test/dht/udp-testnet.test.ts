// The DHT over real UDP on 127.0.0.1: 200 nodes in this process form a network, one
// announces a signed presence record, and a lookup from another process finds and verifies it.
import t from 'tap'
import { spawn } from 'node:child_process'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestnet } from '../../src/dht/udp-testnet.js'
import { StandaloneDht } from '../../src/dht/standalone.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { sealNow } from './helpers.js'
import { peerAddressOf } from '../../src/io/address.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const CHILD = join(HERE, 'fixtures', 'udp-lookup-child.ts')

async function runChild (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += d })
  child.stderr.on('data', d => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

function recordFor (host: string, port: number, seq: number): { bytes: Uint8Array, key: Uint8Array, fingerprint: string } {
  const id = generateIdentity()
  return { ...sealNow(id, [{ host, port, kind: 'lan' }], seq), fingerprint: id.fingerprint }
}

t.test('200 nodes on loopback: a record announced by one is found from another process', async t => {
  const net = await createTestnet(200)
  t.teardown(net.destroy)
  t.equal(net.nodes.length, 200)
  const sizes = net.nodes.map(n => n.node.table.size).sort((a, b) => a - b)
  t.ok(sizes[0]! >= 20, `every node knows at least k others (smallest table: ${sizes[0]})`)

  const publisher = net.nodes[137]!
  const rec = recordFor('192.0.2.10', 4567, 3)
  const pub = await publisher.node.publish(rec.bytes, rec.key)
  t.ok(pub.stored >= 10, `stored on ${pub.stored} of the closest nodes`)

  const r = await runChild([rec.fingerprint, ...net.bootstrap])
  t.equal(r.code, 0, `child exits 0 (stderr: ${r.stderr})`)
  const out = JSON.parse(r.stdout.trim()) as { found: boolean, fingerprint: string, addresses: unknown, seq: number, joined: { reached: number } }
  t.equal(out.joined.reached, net.bootstrap.length, 'the child reached every bootstrap node')
  t.equal(out.found, true, 'the child found the record')
  t.equal(out.fingerprint, rec.fingerprint)
  t.same(out.addresses, [{ host: '192.0.2.10', port: 4567, kind: 'lan' }])
  t.equal(out.seq, 3)

  const missing = await runChild([recordFor('192.0.2.11', 1, 1).fingerprint, ...net.bootstrap])
  t.equal(missing.code, 0)
  t.equal((JSON.parse(missing.stdout.trim()) as { found: boolean }).found, false, 'an unannounced fingerprint is not found')
})

t.test('a newer sequence number replaces the record network-wide', async t => {
  const net = await createTestnet(30)
  t.teardown(net.destroy)
  const id = generateIdentity()
  const now = Date.now()
  const sign = (seq: number, port: number): { bytes: Uint8Array, key: Uint8Array } => sealNow(id, [{ host: '192.0.2.20', port, kind: 'public' }], seq, now)
  const [first, second] = [sign(1, 1000), sign(2, 2000)]
  await net.nodes[3]!.node.publish(first.bytes, first.key)
  await net.nodes[3]!.node.publish(second.bytes, second.key)
  const reader = net.nodes[25]!
  const found = await reader.node.findPresence(id.fingerprint, { exhaustive: true })
  t.equal(found?.seq, 2)
  t.equal(found?.addresses[0]?.port, 2000)
})

t.test('garbage datagrams are dropped and counted, the node keeps answering', async t => {
  const net = await createTestnet(5)
  t.teardown(net.destroy)
  const target = net.nodes[0]!
  const { createSocket } = await import('node:dgram')
  const sock = createSocket('udp4')
  t.teardown(() => { sock.close() })
  const { host, port } = peerAddressOf(target.address)!
  const dropped = (): number => { const d = target.node.stats().drops; return d.malformed + d.oversize }
  const before = dropped()
  // wire marker with a DHT type, then junk
  for (const bytes of [Buffer.from([0x81, 0x22, 1, 2]), Buffer.alloc(1400, 0xff)]) {
    await new Promise<void>(resolve => sock.send(bytes, port, host, () => resolve()))
  }
  const probe = await StandaloneDht.listen({ node: { maxPerSubnet: 1000 } })
  t.teardown(() => probe.close())
  const id = await new Promise(resolve => probe.node.ping(target.address, resolve))
  t.ok(id, 'still answers PING')
  t.equal(dropped() - before, 2, 'both garbage datagrams were dropped and counted')
})
