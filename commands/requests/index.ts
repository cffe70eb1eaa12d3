import { Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { requestEntry, requestLine, withDaemon } from '../../src/cli/messaging.js'

export default class Requests extends BaseCommand {
  static override description = 'List contact requests: people who added you and wrote, but are not your contacts. Answer with `dmess requests accept|decline <fingerprint>`. Also says how many requests and held messages were turned away (full book, a network over its quota, past the byte budget), evicted or expired'
  static override flags = {
    json: Flags.boolean({ description: 'print an array of {"fingerprint","name"?,"text"?,"timestamp"} (with --counts: the counts object)' }),
    counts: Flags.boolean({ description: 'print only the counts: {"pending","heldBytes","budgetBytes","dropped","evicted","expired","heldDropped"}' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Requests)
    const [list, counts] = await withDaemon(this.paths(flags.home), async call => [await call('requests.list', {}), await call('requests.counts', {})] as const)
    if (flags.counts) {
      if (flags.json) this.printJson(counts)
      else this.log(countsLine(counts))
      return
    }
    if (flags.json) { this.printJson(list.map(requestEntry)); return }
    if (list.length === 0) this.log('No contact requests.')
    for (const r of list) this.log(requestLine(r))
    if (counts.dropped + counts.evicted + counts.expired + counts.heldDropped > 0) this.log(countsLine(counts))
  }
}

function countsLine (c: { pending: number, heldBytes: number, budgetBytes: number, dropped: number, evicted: number, expired: number, heldDropped: number }): string {
  return `${c.pending} pending, ${Math.ceil(c.heldBytes / 1024)} of ${c.budgetBytes / 1024} KiB held; turned away so far: ${c.dropped} requests dropped, ${c.evicted} evicted, ${c.expired} expired, ${c.heldDropped} held messages dropped`
}
