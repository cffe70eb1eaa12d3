import { Args, Flags } from '@oclif/core'
import { StoreCommand } from '../../src/cli/store-command.js'
import { contactJsonLabel } from '../../src/cli/daemon-client.js'
import { contactEntry } from '../../src/cli/messaging.js'

export default class ContactsAdd extends StoreCommand {
  static override description = 'Add a contact from an invite string or a fingerprint'
  static override examples = ['<%= config.bin %> contacts add dmess:... --name bob', '<%= config.bin %> contacts add <fingerprint> --name bob']
  static override args = { who: Args.string({ required: true, description: 'invite string (dmess:...) or fingerprint' }) }
  static override flags = {
    name: Flags.string({ description: 'name to know the contact by (default: the name in the invite)' }),
    json: Flags.boolean({ description: 'print as JSON' })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(ContactsAdd)
    const r = await this.withApi(flags, async call => await call('contacts.add', { who: args.who, ...(flags.name !== undefined ? { name: flags.name } : {}) }))
    if (flags.json) { this.printJson({ ...contactEntry(r.contact), created: r.created }); return }
    const what = r.created ? 'Added' : 'Updated keys of'
    this.log(`${what} ${contactJsonLabel(r.contact)}${r.keysLearned ? '' : ' (keys will be learned when they are reached)'}`)
  }
}
