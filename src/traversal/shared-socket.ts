// A bootstrap node's socket shared between its DHT node and the rendezvous role
// (proto-spec/traversal.md §3.2): `dmess bootstrap` is the first publicly reachable dmess node a
// user's daemon knows, so it serves as a rendezvous too. Traversal datagrams (wire.md §2.2,
// 0x40–0x4f) go to a RendezvousServer and its answers out the same socket; everything else to
// whoever sets onDatagram on the returned transport (the DHT node).
import type { DatagramTransport } from '../io/datagram.js'
import type { Scheduler } from '../io/scheduler.js'
import { addressOf, peerAddressOf } from '../io/address.js'
import { isTraversalDatagram } from '../wire/packet.js'
import { decodeTraversal } from './messages.js'
import { RendezvousServer } from './rendezvous.js'

export function withRendezvous (socket: DatagramTransport, server: RendezvousServer, scheduler: Pick<Scheduler, 'now'>): DatagramTransport {
  const shared: DatagramTransport = {
    local: socket.local,
    onDatagram: null,
    send: (to, bytes) => { socket.send(to, bytes) },
    get sendErrors () { return socket.sendErrors },
    close: async () => { await socket.close() }
  }
  socket.onDatagram = (bytes, from) => {
    if (!isTraversalDatagram(bytes)) { shared.onDatagram?.(bytes, from); return }
    const m = decodeTraversal(bytes)
    const src = addressOf(from.host, from.port)
    if (m === null || src === null) return
    for (const o of server.receive(m, src, scheduler.now())) {
      const to = peerAddressOf(o.to)
      if (to !== null) socket.send(to, o.bytes)
    }
  }
  return shared
}
