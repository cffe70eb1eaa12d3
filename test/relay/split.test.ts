// splitRelayControl (src/relay/split.ts): on a socket that is not an Endpoint (dmess bootstrap's),
// relay control messages go to the relay and everything else, untouched, to the socket's owner.
import t from 'tap'
import { splitRelayControl } from '../../src/relay/split.js'
import { encodeRelayMessage } from '../../src/relay/codec.js'
import { RelayType } from '../../src/relay/constants.js'
import type { DatagramTransport } from '../../src/io/datagram.js'
import type { PeerAddress } from '../../src/io/address.js'

t.test('relay control to the relay, DHT and anything else to the owner; sends and close pass through', async t => {
  const sent: Array<[PeerAddress, Uint8Array]> = []
  let closed = false
  const raw: DatagramTransport = {
    local: { host: '127.0.0.1', port: 47400 },
    onDatagram: null,
    send: (to, bytes) => { sent.push([to, bytes]) },
    sendErrors: 3,
    close: async () => { closed = true }
  }
  const control: Uint8Array[] = []
  const owner: Uint8Array[] = []
  const split = splitRelayControl(raw, bytes => { control.push(bytes) })
  split.onDatagram = bytes => { owner.push(bytes) }
  const from = { host: '198.51.100.1', port: 1 }
  const allocate = encodeRelayMessage({ type: RelayType.ALLOCATE, requestId: new Uint8Array(8), cookie: null, bindKey: new Uint8Array(32) })
  const dht = Uint8Array.of(0xc1, 0x20, 1, 2, 3)
  const reserved = Uint8Array.of(0xc1, 0x5f, 0)
  raw.onDatagram!(allocate, from)
  raw.onDatagram!(dht, from)
  raw.onDatagram!(reserved, from)
  t.same(control, [allocate])
  t.same(owner, [dht, reserved], 'a reserved relay type is not ours to take: the owner drops it')
  split.send(from, dht)
  t.same(sent, [[from, dht]])
  t.equal(split.sendErrors, 3)
  t.same(split.local, raw.local)
  await split.close()
  t.ok(closed)
})
