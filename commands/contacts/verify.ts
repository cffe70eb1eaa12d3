import { Args, Flags } from '@oclif/core'
import { StoreCommand } from '../../src/cli/store-command.js'
import { contactJsonLabel } from '../../src/cli/daemon-client.js'
import { confirm } from '../../src/cli/confirm.js'

/** Twelve groups of five digits, shown as three rows of four like Signal does. */
function safetyNumberRows (number: string): string {
  const groups = number.split(' ')
  const rows: string[] = []
  for (let i = 0; i < groups.length; i += 4) rows.push('  ' + groups.slice(i, i + 4).join(' '))
  return rows.join('\n')
}

export default class ContactsVerify extends StoreCommand {
  static override description = 'Show the safety number you share with a contact; mark the contact verified once you have compared it out of band'
  static override args = { contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name' }) }
  static override flags = {
    yes: Flags.boolean({ description: 'mark as verified without asking (you compared the number already)' }),
    unverify: Flags.boolean({ description: 'clear the verified mark' }),
    json: Flags.boolean({ description: 'print as JSON (does not change the verified mark unless --yes or --unverify)' })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(ContactsVerify)
    const r = await this.withApi(flags, async call => {
      if (flags.unverify) return await call('contacts.verify', { contact: args.contact, set: false })
      if (flags.json) return await call('contacts.verify', { contact: args.contact, ...(flags.yes ? { set: true } : {}) })
      const shown = await call('contacts.verify', { contact: args.contact })
      this.log(`Safety number with ${contactJsonLabel(shown.contact)}:\n\n${safetyNumberRows(shown.safetyNumber)}\n`)
      this.log('Compare it with the one your contact sees (in person or by a call). If they match, nobody is in the middle.')
      const ok = flags.yes || await confirm('Do the numbers match?')
      return ok ? await call('contacts.verify', { contact: shown.contact.fingerprint, set: true }) : shown
    })
    if (flags.json) { this.printJson({ fingerprint: r.contact.fingerprint, safetyNumber: r.safetyNumber, verified: r.contact.verified }); return }
    const label = contactJsonLabel(r.contact)
    this.log(r.contact.verified ? `${label} is verified.` : `${label} is not marked verified.`)
  }
}
