import { Args, Flags } from '@oclif/core'
import { StoreCommand } from '../src/cli/store-command.js'
import { historyEntry, messageLine } from '../src/cli/messaging.js'

export default class History extends StoreCommand {
  static override description = 'Show the conversation with a contact, oldest first in the order messages arrived (times are the sender\'s clock). A removed contact\'s conversation is kept: name it by fingerprint or a fingerprint prefix. Without a running daemon it opens the store itself (asks for the passphrase)'
  static override args = { contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name (a removed contact: fingerprint or prefix)' }) }
  static override flags = {
    json: Flags.boolean({ description: 'print an array of {"id","direction","text","timestamp","status"}' }),
    limit: Flags.integer({ description: 'the newest N messages (default 50)', min: 1, max: 10_000 })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(History)
    const r = await this.withApi(flags, async call => await call('messages.history', { contact: args.contact, ...(flags.limit === undefined ? {} : { limit: flags.limit }) }))
    if (flags.json) { this.printJson(r.messages.map(historyEntry)); return }
    if (r.messages.length === 0) { this.log('No messages yet.'); return }
    const label = r.contact?.name ?? r.peer.slice(0, 12)
    for (const m of r.messages) this.log(messageLine(m, label))
  }
}
