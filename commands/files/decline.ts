import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { withDaemon } from '../../src/cli/messaging.js'
import { terminalSafe } from '../../src/platform/terminal-text.js'

export default class FilesDecline extends BaseCommand {
  static override description = 'Decline a file offered to you'
  static override args = { id: Args.string({ required: true, description: 'transfer id (or its first 8 or more characters) from `dmess files`' }) }
  static override flags = { json: Flags.boolean({ description: 'print the transfer as JSON' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(FilesDecline)
    const t = await withDaemon(this.paths(flags.home), async call => await call('files.decline', { id: args.id }))
    if (flags.json) { this.printJson(t); return }
    this.log(`${terminalSafe(t.name)}: ${t.state}`)
  }
}
