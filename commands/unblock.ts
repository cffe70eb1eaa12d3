import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { withDaemon } from '../src/cli/messaging.js'

export default class Unblock extends BaseCommand {
  static override description = 'Unblock a fingerprint blocked with `dmess block`'
  static override args = { contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name' }) }
  static override flags = { json: Flags.boolean({ description: 'print {"fingerprint","changed"} as JSON' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Unblock)
    const r = await withDaemon(this.paths(flags.home), async call => await call('contacts.unblock', { contact: args.contact }))
    if (flags.json) { this.printJson(r); return }
    this.log(r.changed ? `Unblocked ${r.fingerprint}` : `${r.fingerprint} was not blocked`)
  }
}
