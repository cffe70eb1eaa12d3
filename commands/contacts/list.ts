import { Flags } from '@oclif/core'
import { StoreCommand } from '../../src/cli/store-command.js'
import { contactEntry, contactLine } from '../../src/cli/messaging.js'

export default class ContactsList extends StoreCommand {
  static override description = 'List your contacts'
  static override flags = { json: Flags.boolean({ description: 'print an array of {"fingerprint","name","verified","keys","addedAt","lastSeen"} (times in ms since the epoch)' }) }

  async run (): Promise<void> {
    const { flags } = await this.parse(ContactsList)
    const rows = await this.withApi(flags, async call => await call('contacts.list', {}))
    if (flags.json) { this.printJson(rows.map(contactEntry)); return }
    if (rows.length === 0) { this.log('No contacts yet. Add one with `dmess contacts add <invite>`.'); return }
    for (const c of rows) this.log(contactLine(c))
  }
}
