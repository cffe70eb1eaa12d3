import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { daemonStatus } from '../src/cli/daemon-client.js'
import { formatHostPort } from '../src/io/address.js'
import { portmapLine } from '../src/cli/portmap.js'
import { formatDuration } from '../src/daemon/agent.js'

export default class Status extends BaseCommand {
  static override description = 'Show whether the daemon (or the unlock agent of `dmess unlock`) runs for this home, and its address and peers, or when the agent locks (exit 0 either way: see `running`, `mode`)'
  static override flags = { json: Flags.boolean({ description: 'print as JSON: {"running":false} when no daemon runs' }) }

  async run (): Promise<void> {
    const { flags } = await this.parse(Status)
    const paths = this.paths(flags.home)
    const s = await daemonStatus(paths)
    if (flags.json) { this.printJson(s); return }
    if (!s.running) { this.log(`dmess daemon is not running for ${paths.home}`); return }
    if (s.mode === 'agent') {
      const left = s.locksAt === undefined ? NaN : Date.parse(s.locksAt) - Date.now()
      this.log(`dmess unlock agent running (pid ${s.pid}) since ${s.startedAt}: offline, no network (dmess daemon goes online)`)
      this.log(`Fingerprint: ${s.fingerprint}`)
      this.log(`Locks at:    ${s.locksAt ?? '?'}${Number.isFinite(left) ? ` (in ${formatDuration(left)}; dmess lock locks now)` : ''}`)
      return
    }
    this.log(`dmess daemon running (pid ${s.pid}) since ${s.startedAt}`)
    this.log(`Fingerprint: ${s.fingerprint}`)
    this.log(`UDP:         ${formatHostPort({ host: s.host, port: s.port })}`)
    this.log(`Peers:       ${s.peers}`)
    this.log(`mDNS:        ${s.mdns ? 'on' : 'off'}`)
    this.log(`DHT:         ${s.dhtNodes} nodes in the routing table`)
    if (s.portmap !== undefined) this.log(`Port map:    ${portmapLine(s.portmap)}`)
    if (s.nat !== undefined) {
      const filtering = s.nat.filtering === undefined || s.nat.filtering === 'unknown' ? '' : `, ${s.nat.filtering} filtering`
      this.log(`NAT:         ${s.nat.natKind}${filtering}${s.nat.publiclyReachable ? ' (publicly reachable)' : ''}`)
      this.log(`Public:      ${s.nat.publicAddresses.length === 0 ? 'not known yet' : s.nat.publicAddresses.join(', ')}`)
      this.log(`STUN:        ${s.nat.stunServing ? 'answering Binding requests' : 'not serving (only publicly reachable nodes do)'}`)
    }
    if (s.traversal !== undefined) {
      this.log(`Rendezvous:  ${s.traversal.registeredWith.length === 0 ? 'registered with none (not needed, or none found yet)' : `registered with ${s.traversal.registeredWith.join(', ')}`}; holding ${s.traversal.servingRegistrations} for others`)
    }
    if (s.relay !== undefined) {
      this.log(`Relay:       ${s.relay.serving ? `relaying for others (${s.relay.allocations} allocation${s.relay.allocations === 1 ? '' : 's'})` : 'not relaying (only publicly reachable nodes do)'}`)
      for (const u of s.relay.using ?? []) this.log(`             using ${u.via} for ${u.peer.slice(0, 12)}… (${u.state}${u.stranger ? ', a first contact' : ''})`)
    }
    this.log(`Encryption:  ChaCha20-Poly1305 via ${s.aead === 'openssl-addon' ? 'the native OpenSSL addon' : `node:crypto${s.aeadFallbackReason === undefined ? '' : ` (${s.aeadFallbackReason})`}`}`)
  }
}
