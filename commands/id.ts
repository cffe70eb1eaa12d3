import { Flags } from '@oclif/core'
import qrcode from 'qrcode-terminal'
import { BaseCommand } from '../src/cli/base.js'
import { readPublicProfile } from '../src/app/profile.js'
import { formatFingerprintGrouped } from '../src/crypto/identity.js'

export default class Id extends BaseCommand {
  static override description = 'Show your fingerprint (your address) and the invite string to give to contacts'
  static override flags = {
    json: Flags.boolean({ description: 'print as JSON' }),
    qr: Flags.boolean({ description: 'also draw the invite as a QR code in the terminal' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Id)
    const p = await readPublicProfile(this.paths(flags.home))
    if (flags.json) {
      this.printJson({
        fingerprint: p.fingerprint,
        invite: p.invite,
        name: p.name ?? null,
        signPublic: Buffer.from(p.identity.signPublic).toString('hex'),
        dhPublic: Buffer.from(p.identity.dhPublic).toString('hex')
      })
      return
    }
    if (p.name) this.log(`Name:        ${p.name}`)
    this.log(`Fingerprint: ${formatFingerprintGrouped(p.fingerprint)}`)
    this.log(`Invite:      ${p.invite}`)
    if (flags.qr) {
      qrcode.generate(p.invite, { small: true }, (code: string) => this.log(code))
    }
  }
}
