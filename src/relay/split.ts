// A socket shared by the relay and something that is not an Endpoint (the bootstrap node's
// standalone DHT, src/dht/standalone.ts): relay control messages (wire.md §2.2, 0x50–0x5f) are
// taken off before the owner's onDatagram sees anything, as the Endpoint's demux does for a
// user's node (wire.md §1).
import type { DatagramTransport } from '../io/datagram.js'
import type { PeerAddress } from '../io/address.js'
import { isRelayControl } from './codec.js'

/** `socket` with relay control messages going to `onControl`; everything else to the new onDatagram. */
export function splitRelayControl (socket: DatagramTransport, onControl: (bytes: Uint8Array, from: PeerAddress) => void): DatagramTransport {
  const split: DatagramTransport = {
    local: socket.local,
    onDatagram: null,
    send: (to, bytes) => { socket.send(to, bytes) },
    get sendErrors () { return socket.sendErrors },
    close: async () => { await socket.close() }
  }
  socket.onDatagram = (bytes, from) => {
    if (isRelayControl(bytes)) onControl(bytes, from)
    else split.onDatagram?.(bytes, from)
  }
  return split
}
