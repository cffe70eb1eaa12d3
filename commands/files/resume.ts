import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { withDaemon } from '../../src/cli/messaging.js'
import { terminalSafe } from '../../src/platform/terminal-text.js'

export default class FilesResume extends BaseCommand {
  static override description = 'Resume a file you were receiving that stopped because your disk was full: free space first; it goes on from the chunks already held'
  static override args = { id: Args.string({ required: true, description: 'transfer id (or its first 8 or more characters) from `dmess files`' }) }
  static override flags = { json: Flags.boolean({ description: 'print the transfer as JSON' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(FilesResume)
    const t = await withDaemon(this.paths(flags.home), async call => await call('files.resume', { id: args.id }))
    if (flags.json) { this.printJson(t); return }
    this.log(`${terminalSafe(t.name)}: ${t.state}`)
  }
}
