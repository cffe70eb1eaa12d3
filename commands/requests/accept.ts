import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { withDaemon } from '../../src/cli/messaging.js'
import { contactJsonLabel } from '../../src/cli/daemon-client.js'

export default class RequestsAccept extends BaseCommand {
  static override description = 'Accept a contact request: the sender becomes a contact and the messages held with the request become your conversation'
  static override args = { fingerprint: Args.string({ required: true, description: 'fingerprint (or a unique prefix) from `dmess requests`' }) }
  static override flags = { json: Flags.boolean({ description: 'print {"contact","messages"} as JSON' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(RequestsAccept)
    const r = await withDaemon(this.paths(flags.home), async call => await call('requests.accept', { fingerprint: args.fingerprint }))
    if (flags.json) { this.printJson(r); return }
    this.log(`Accepted ${contactJsonLabel(r.contact)}${r.messages > 0 ? `; ${r.messages} message${r.messages === 1 ? '' : 's'} moved to your conversation` : ''}`)
  }
}
