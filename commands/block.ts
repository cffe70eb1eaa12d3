import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { withDaemon } from '../src/cli/messaging.js'

export default class Block extends BaseCommand {
  static override description = 'Block a contact, a requester or any fingerprint: everything from it is dropped unread, its sessions refused'
  static override args = { contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name' }) }
  static override flags = { json: Flags.boolean({ description: 'print {"fingerprint","changed"} as JSON' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Block)
    const r = await withDaemon(this.paths(flags.home), async call => await call('contacts.block', { contact: args.contact }))
    if (flags.json) { this.printJson(r); return }
    this.log(r.changed ? `Blocked ${r.fingerprint}` : `${r.fingerprint} was already blocked`)
  }
}
