import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { errors } from '../../src/errors.js'
import { withDaemon } from '../../src/cli/messaging.js'
import { formatHostPort } from '../../src/io/address.js'
import { DEFAULT_LOOKUP_TIMEOUT_MS, MAX_LOOKUP_TIMEOUT_MS } from '../../src/daemon/rpc-dht.js'

export default class DhtLookup extends BaseCommand {
  static override description = 'Find a fingerprint\'s presence record in the DHT (sealed so only those who know the fingerprint can read it, certified by its owner: the addresses it can be reached at). Needs a running daemon'
  static override args = { fingerprint: Args.string({ required: true, description: 'the fingerprint to look up' }) }
  static override flags = {
    json: Flags.boolean({ description: 'print {"fingerprint","addresses":[{"host","port","kind"}],"period","seq","expiresAt"}' }),
    timeout: Flags.integer({ description: 'give up after this many seconds', default: DEFAULT_LOOKUP_TIMEOUT_MS / 1000, min: 1, max: MAX_LOOKUP_TIMEOUT_MS / 1000 })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(DhtLookup)
    const timeoutMs = flags.timeout * 1000
    const r = await withDaemon(this.paths(flags.home), async (_call, timeout) =>
      await timeout(timeoutMs + 5000)('dht.lookup', { fingerprint: args.fingerprint, timeoutMs }))
    if (r.record === null) throw errors.DHT_NOT_FOUND(`not found: no live presence record for ${args.fingerprint.trim()} (routing table: ${r.dhtNodes} nodes)`)
    if (flags.json) { this.printJson(r.record); return }
    this.log(`Fingerprint: ${r.record.fingerprint}`)
    for (const a of r.record.addresses) this.log(`Address:     ${formatHostPort(a)} (${a.kind})`)
    this.log(`Period:      ${r.record.period}`)
    this.log(`Seq:         ${r.record.seq}`)
    this.log(`Expires:     ${r.record.expiresAt}`)
  }
}
