import { Args } from '@oclif/core'
import { StoreCommand } from '../../src/cli/store-command.js'
import { contactJsonLabel } from '../../src/cli/daemon-client.js'

export default class ContactsRename extends StoreCommand {
  static override description = 'Give a contact a new name'
  static override args = {
    contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name' }),
    name: Args.string({ required: true, description: 'new name' })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(ContactsRename)
    const r = await this.withApi(flags, async call => await call('contacts.rename', { contact: args.contact, name: args.name }))
    if (r.clash) this.warn(`another contact is also named "${args.name}"; refer to them by fingerprint prefix`)
    this.log(`Renamed to ${contactJsonLabel(r.contact)}`)
  }
}
