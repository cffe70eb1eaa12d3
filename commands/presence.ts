import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { withDaemon } from '../src/cli/messaging.js'

export default class Presence extends BaseCommand {
  static override description = 'Tell your contacts you are online or away (they see it in `dmess peers` and in chat)'
  static override args = { state: Args.string({ required: true, options: ['online', 'away'], description: 'online or away' }) }
  static override flags = { json: Flags.boolean({ description: 'print {"state","told"} as JSON' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Presence)
    const state = args.state === 'away' ? 'away' : 'online'
    const r = await withDaemon(this.paths(flags.home), async call => await call('presence.set', { state }))
    if (flags.json) { this.printJson(r); return }
    this.log(`You are ${r.state}; told ${r.told} connected contact${r.told === 1 ? '' : 's'}`)
  }
}
