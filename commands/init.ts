import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { getNewPassphrase, passphraseFlags } from '../src/cli/passphrase.js'
import { initProfile } from '../src/app/profile.js'
import { assertNoDaemon } from '../src/daemon/run.js'
import { formatFingerprintGrouped } from '../src/crypto/identity.js'

export default class Init extends BaseCommand {
  static override description = 'Create your identity: signing and key-agreement keys, encrypted under a passphrase'
  static override examples = ['<%= config.bin %> init --name alice', 'DMESS_PASSPHRASE=... <%= config.bin %> init --home /tmp/bob']
  static override flags = {
    name: Flags.string({ description: 'display name offered in your invite' }),
    force: Flags.boolean({ description: 'replace an existing identity (the old one is moved aside, not deleted)' }),
    json: Flags.boolean({ description: 'print as JSON' }),
    ...passphraseFlags
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Init)
    const paths = this.paths(flags.home)
    // --force moves the store aside: never from under a running daemon
    if (flags.force) await assertNoDaemon(paths)
    const passphrase = await getNewPassphrase(flags)
    const profile = await initProfile(paths, passphrase, { name: flags.name, force: flags.force })
    if (flags.json) {
      this.printJson({ fingerprint: profile.fingerprint, invite: profile.invite, name: profile.name ?? null, home: paths.home })
      return
    }
    this.log(`Identity created in ${paths.home}`)
    this.log(`Fingerprint: ${formatFingerprintGrouped(profile.fingerprint)}`)
    this.log(`Invite:      ${profile.invite}`)
  }
}
