import { Args, Flags } from '@oclif/core'
import { resolve } from 'node:path'
import { BaseCommand } from '../src/cli/base.js'
import { getNewPassphrase, getPassphrase, passphraseFlags } from '../src/cli/passphrase.js'
import { BACKUP_SOURCES, backupError, backupPassphraseFlag, readBackupFile } from '../src/cli/backup.js'
import { importBackup } from '../src/app/backup.js'

export default class Import extends BaseCommand {
  static override description = 'Restore a backup made by `dmess export` into a home with no identity (the passphrase for the home is asked as at init)'
  static override examples = ['<%= config.bin %> import ~/dmess-backup.dmbk --home ~/.local/share/dmess']

  static override args = {
    file: Args.string({ required: true, description: 'the backup file' })
  }

  static override flags = {
    ...passphraseFlags,
    ...backupPassphraseFlag,
    json: Flags.boolean({ description: 'print {"file","fingerprint","contacts","messages","bytes"} as JSON' })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Import)
    const paths = this.paths(flags.home)
    const file = resolve(args.file)
    const bytes = await readBackupFile(file)
    const backupPass = await getPassphrase({ 'passphrase-file': flags['backup-passphrase-file'] }, BACKUP_SOURCES)
    const passphrase = await getNewPassphrase(flags)
    let summary
    try {
      summary = await importBackup(paths, bytes, backupPass, passphrase)
    } catch (err) {
      throw backupError(file, err)
    }
    if (flags.json) { this.printJson({ file, ...summary }); return }
    this.log(`Restored identity ${summary.fingerprint} into ${paths.home}: ${summary.contacts} contact${summary.contacts === 1 ? '' : 's'}${summary.messages === null ? '' : `, ${summary.messages} message${summary.messages === 1 ? '' : 's'}`}. Your contacts' nodes start new sessions with it.`)
  }
}
