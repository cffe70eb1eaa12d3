import { Args } from '@oclif/core'
import { StoreCommand } from '../../src/cli/store-command.js'
import { checkName, resolveContact } from '../../src/app/contacts.js'
import { contactLabel } from '../../src/cli/format.js'

export default class ContactsRename extends StoreCommand {
  static override description = 'Give a contact a new name'
  static override args = {
    contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name' }),
    name: Args.string({ required: true, description: 'new name' })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(ContactsRename)
    const name = checkName(args.name)
    const c = await this.withStore(flags, async store => {
      const contact = await resolveContact(store, args.contact)
      const clash = (await store.listContacts()).find(o => o.fingerprint !== contact.fingerprint && o.name?.toLowerCase() === name.toLowerCase())
      if (clash) this.warn(`another contact is also named "${name}"; refer to them by fingerprint prefix`)
      return await store.renameContact(contact.fingerprint, name)
    })
    this.log(`Renamed to ${contactLabel(c)}`)
  }
}
