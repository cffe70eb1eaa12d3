import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { withDaemon } from '../src/cli/messaging.js'
import { contactJsonLabel } from '../src/cli/daemon-client.js'

export default class Read extends BaseCommand {
  static override description = 'Mark a conversation as read; the contact gets read receipts'
  static override args = { contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name' }) }
  static override flags = { json: Flags.boolean({ description: 'print {"fingerprint","marked"} as JSON' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Read)
    const r = await withDaemon(this.paths(flags.home), async call => await call('messages.read', { contact: args.contact }))
    if (flags.json) { this.printJson({ fingerprint: r.contact.fingerprint, marked: r.marked }); return }
    this.log(r.marked === 0 ? `Nothing unread from ${contactJsonLabel(r.contact)}` : `Marked ${r.marked} message${r.marked === 1 ? '' : 's'} from ${contactJsonLabel(r.contact)} as read`)
  }
}
