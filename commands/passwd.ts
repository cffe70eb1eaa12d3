import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { getNewPassphrase, passphraseFlags, withPassphrase } from '../src/cli/passphrase.js'
import { assertInitialised, changeProfilePassphrase, lock, unlock } from '../src/app/profile.js'

export default class Passwd extends BaseCommand {
  static override description = 'Change the passphrase that encrypts your keys (the file is replaced atomically)'
  static override flags = {
    ...passphraseFlags,
    'new-passphrase-file': Flags.string({ description: 'read the new passphrase from this file (else $DMESS_NEW_PASSPHRASE, else a prompt)' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Passwd)
    const paths = this.paths(flags.home)
    await assertInitialised(paths)
    // checked before the new one is asked for, so a mistyped current passphrase is asked again
    const oldPass = await withPassphrase(flags, async pass => { lock(await unlock(paths, pass)); return pass }, { prompt: 'Current passphrase: ' })
    const newPass = await getNewPassphrase({ 'passphrase-file': flags['new-passphrase-file'] }, { envVar: 'DMESS_NEW_PASSPHRASE', flag: '--new-passphrase-file', what: 'new passphrase' })
    await changeProfilePassphrase(paths, oldPass, newPass)
    this.log('Passphrase changed.')
  }
}
