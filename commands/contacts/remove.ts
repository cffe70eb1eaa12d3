import { Args } from '@oclif/core'
import { StoreCommand } from '../../src/cli/store-command.js'
import { resolveContact } from '../../src/app/contacts.js'
import { contactLabel } from '../../src/cli/format.js'

export default class ContactsRemove extends StoreCommand {
  static override description = 'Remove a contact (the conversation history is kept)'
  static override args = { contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(ContactsRemove)
    const c = await this.withStore(flags, async store => {
      const contact = await resolveContact(store, args.contact)
      await store.removeContact(contact.fingerprint)
      return contact
    })
    this.log(`Removed ${contactLabel(c)}`)
  }
}
