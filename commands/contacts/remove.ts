import { Args } from '@oclif/core'
import { StoreCommand } from '../../src/cli/store-command.js'
import { contactJsonLabel } from '../../src/cli/daemon-client.js'

export default class ContactsRemove extends StoreCommand {
  static override description = 'Remove a contact (the conversation history is kept: `dmess history <fingerprint>` still shows it)'
  static override args = { contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(ContactsRemove)
    const r = await this.withApi(flags, async call => await call('contacts.remove', { contact: args.contact }))
    this.log(`Removed ${contactJsonLabel(r.contact)}; its history stays readable with \`dmess history ${r.contact.fingerprint}\``)
  }
}
