import { Args, Flags } from '@oclif/core'
import { StoreCommand } from '../src/cli/store-command.js'
import { searchLine } from '../src/cli/messaging.js'

export default class Search extends StoreCommand {
  static override description = 'Find messages containing a text (case-insensitive), newest first. Without a running daemon it opens the store itself (asks for the passphrase)'
  static override args = { query: Args.string({ required: true, description: 'text to look for' }) }
  static override flags = {
    json: Flags.boolean({ description: 'print an array of {"peer","name","id","direction","text","timestamp","status"}' }),
    contact: Flags.string({ description: 'search one conversation only' }),
    limit: Flags.integer({ description: 'at most N results (default 50)', min: 1, max: 10_000 })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Search)
    const hits = await this.withApi(flags, async call => await call('messages.search', {
      query: args.query, ...(flags.contact === undefined ? {} : { contact: flags.contact }), ...(flags.limit === undefined ? {} : { limit: flags.limit })
    }))
    if (flags.json) {
      this.printJson(hits.map(h => ({ peer: h.peer, name: h.name, id: h.id, direction: h.direction, text: h.text, timestamp: h.timestamp, status: h.status })))
      return
    }
    if (hits.length === 0) { this.log('No messages match.'); return }
    for (const h of hits) this.log(searchLine(h))
  }
}
