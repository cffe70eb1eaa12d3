// Datagram sockets that reach nothing: the unlock agent's (`dmess unlock`, src/daemon/agent.ts).
// A node built on them runs its store, outbox and IPC but opens no socket of the kernel's: what it
// sends is dropped and counted as a send error, as a lost datagram is on a real socket, and
// nothing ever arrives. The outbox keeps every queued message for the daemon that goes online.
import type { BindOptions, DatagramSockets, DatagramTransport } from './datagram.js'
import type { PeerAddress } from './address.js'

class OfflineTransport implements DatagramTransport {
  onDatagram: ((bytes: Uint8Array, from: PeerAddress) => void) | null = null
  sendErrors = 0
  readonly local: PeerAddress

  constructor (opts: BindOptions) {
    // port 0 stays 0: nothing was bound, so there is no port to report
    this.local = { host: opts.host ?? '0.0.0.0', port: 0 }
  }

  send (): void {
    this.sendErrors++
  }

  async close (): Promise<void> {}
}

export const offlineSockets: DatagramSockets = {
  bind: async opts => new OfflineTransport(opts)
}
