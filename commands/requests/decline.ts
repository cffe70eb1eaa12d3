import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { withDaemon } from '../../src/cli/messaging.js'

export default class RequestsDecline extends BaseCommand {
  static override description = 'Decline a contact request: it and its messages are dropped, and that fingerprint is ignored for 30 days (use `dmess block` to refuse it for good)'
  static override args = { fingerprint: Args.string({ required: true, description: 'fingerprint (or a unique prefix) from `dmess requests`' }) }
  static override flags = { json: Flags.boolean({ description: 'print {"fingerprint","messages"} as JSON' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(RequestsDecline)
    const r = await withDaemon(this.paths(flags.home), async call => await call('requests.decline', { fingerprint: args.fingerprint }))
    if (flags.json) { this.printJson(r); return }
    this.log(`Declined ${r.fingerprint}${r.messages > 0 ? ` (${r.messages} held message${r.messages === 1 ? '' : 's'} dropped)` : ''}`)
  }
}
