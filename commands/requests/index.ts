import { Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { requestEntry, requestLine, withDaemon } from '../../src/cli/messaging.js'

export default class Requests extends BaseCommand {
  static override description = 'List contact requests: people who added you and wrote, but are not your contacts. Answer with `dmess requests accept|decline <fingerprint>`'
  static override flags = { json: Flags.boolean({ description: 'print an array of {"fingerprint","name"?,"text"?,"timestamp"}' }) }

  async run (): Promise<void> {
    const { flags } = await this.parse(Requests)
    const list = await withDaemon(this.paths(flags.home), async call => await call('requests.list', {}))
    if (flags.json) { this.printJson(list.map(requestEntry)); return }
    if (list.length === 0) { this.log('No contact requests.'); return }
    for (const r of list) this.log(requestLine(r))
  }
}
