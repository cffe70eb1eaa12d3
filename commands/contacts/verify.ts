import { Args, Flags } from '@oclif/core'
import { StoreCommand } from '../../src/cli/store-command.js'
import { contactIdentity, resolveContact } from '../../src/app/contacts.js'
import { contactLabel } from '../../src/cli/format.js'
import { confirm } from '../../src/cli/confirm.js'
import { publicIdentityOf, safetyNumber } from '../../src/crypto/identity.js'
import { errors } from '../../src/errors.js'

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
    const result = await this.withStore(flags, async (store, u) => {
      const c = await resolveContact(store, args.contact)
      const theirs = contactIdentity(c)
      if (!theirs) throw errors.BAD_ARGUMENT(`the keys of ${contactLabel(c)} are not known yet: add them from an invite to verify`)
      const number = safetyNumber(publicIdentityOf(u.identity), theirs)
      if (flags.unverify) return { c: await store.setVerified(c.fingerprint, false), number }
      if (flags.json) return { c: flags.yes ? await store.setVerified(c.fingerprint, true) : c, number }
      this.log(`Safety number with ${contactLabel(c)}:\n\n${safetyNumberRows(number)}\n`)
      this.log('Compare it with the one your contact sees (in person or by a call). If they match, nobody is in the middle.')
      const ok = flags.yes || await confirm('Do the numbers match?')
      return { c: ok ? await store.setVerified(c.fingerprint, true) : c, number }
    })
    if (flags.json) { this.printJson({ fingerprint: result.c.fingerprint, safetyNumber: result.number, verified: result.c.verified }); return }
    this.log(result.c.verified ? `${contactLabel(result.c)} is verified.` : `${contactLabel(result.c)} is not marked verified.`)
  }
}
