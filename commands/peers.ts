import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { peerEntry, peerLine, withDaemon } from '../src/cli/messaging.js'

export default class Peers extends BaseCommand {
  static override description = 'List the nodes the daemon knows: how each was found (mdns, static --peer, inbound, dht), its state (connecting on a first attempt, offline once attempts failed, with when a contact was last seen) and round-trip time'
  static override flags = { json: Flags.boolean({ description: 'print an array of {"fingerprint","address","source","state","rtt","path","lastSeen"}; lastSeen: a contact\'s last seen, ms since the epoch, or null; path: {"via":"direct","candidate":…} (the winning candidate of a hole punch), {"via":"relayed","relay":"host:port","rttMs":…} or null' }) }

  async run (): Promise<void> {
    const { flags } = await this.parse(Peers)
    const [peers, dhtNodes] = await withDaemon(this.paths(flags.home), async call => [await call('peers.list', {}), (await call('status', {})).dhtNodes] as const)
    if (flags.json) { this.printJson(peers.map(peerEntry)); return }
    this.log(`DHT routing table: ${dhtNodes} nodes (\`dmess status --json\`: dhtNodes)`)
    if (peers.length === 0) { this.log('No peers yet (mDNS finds nodes on the LAN; contacts elsewhere are looked up in the DHT; `dmess daemon --peer host:port` adds one).'); return }
    for (const p of peers) this.log(peerLine(p))
  }
}
