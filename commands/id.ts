import { Flags } from '@oclif/core'
import qrcode from 'qrcode-terminal'
import { BaseCommand } from '../src/cli/base.js'
import { displayName, readPublicProfile } from '../src/app/profile.js'
import { formatFingerprintGrouped } from '../src/crypto/identity.js'
import { encodeInvite, type InviteAddresses } from '../src/crypto/invite.js'
import { findDaemon } from '../src/cli/daemon-client.js'
import type { HomePaths } from '../src/config/home.js'

/** Where a running daemon is now, and DHT nodes it met (identity.md §7.1); none without a daemon. */
async function currentAddresses (paths: HomePaths): Promise<InviteAddresses | null> {
  const client = await findDaemon(paths).catch(() => undefined)
  if (client === undefined) return null
  try {
    return await client.caller('dht.inviteAddresses', {})
  } catch {
    return null // a daemon without a DHT
  } finally {
    client.close()
  }
}

export default class Id extends BaseCommand {
  static override description = 'Show your fingerprint (your address) and the invite string to give to contacts (with a running daemon, the invite also says where your node and some DHT nodes are now)'
  static override flags = {
    json: Flags.boolean({ description: 'print as JSON' }),
    qr: Flags.boolean({ description: 'also draw the invite as a QR code in the terminal' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Id)
    const paths = this.paths(flags.home)
    const p = await readPublicProfile(paths)
    const addresses = await currentAddresses(paths)
    // config "name" wins over the name given to `dmess init` (`dmess config set name …`)
    const name = await displayName(paths)
    const invite = addresses === null && name === p.name ? p.invite : encodeInvite(p.identity, name, addresses ?? undefined)
    if (flags.json) {
      this.printJson({
        fingerprint: p.fingerprint,
        invite,
        addresses,
        name: name ?? null,
        signPublic: Buffer.from(p.identity.signPublic).toString('hex'),
        dhPublic: Buffer.from(p.identity.dhPublic).toString('hex')
      })
      return
    }
    if (name !== undefined && name !== '') this.log(`Name:        ${name}`)
    this.log(`Fingerprint: ${formatFingerprintGrouped(p.fingerprint)}`)
    this.log(`Invite:      ${invite}`)
    if (addresses !== null && addresses.node.length > 0) this.log(`             (it names where your node is now: ${addresses.node.join(', ')})`)
    if (flags.qr) {
      qrcode.generate(invite, { small: true }, (code: string) => this.log(code))
    }
  }
}
