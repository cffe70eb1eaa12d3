import { Args, Flags } from '@oclif/core'
import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import { BaseCommand } from '../src/cli/base.js'
import { getNewPassphrase, getPassphrase, passphraseFlags } from '../src/cli/passphrase.js'
import { BACKUP_SOURCES, BACKUP_WARNING, backupPassphraseFlag } from '../src/cli/backup.js'
import { assertInitialised } from '../src/app/profile.js'
import { exportBackup } from '../src/app/backup.js'
import { writeFileAtomic } from '../src/platform/fs.js'
import { errors } from '../src/errors.js'
import { findDaemon } from '../src/cli/daemon-client.js'

export default class Export extends BaseCommand {
  static override description = 'Write an encrypted backup of your identity and contacts (--history: and your messages) under a passphrase of its own'
  static override examples = ['<%= config.bin %> export ~/dmess-backup.dmbk', '<%= config.bin %> export /media/usb/dmess.dmbk --history']

  static override args = {
    file: Args.string({ required: true, description: 'the backup file to write (mode 0600)' })
  }

  static override flags = {
    ...passphraseFlags,
    ...backupPassphraseFlag,
    history: Flags.boolean({ description: 'include the message history with your contacts (at most 1 MiB of backup)' }),
    force: Flags.boolean({ description: 'replace the file if it exists' }),
    json: Flags.boolean({ description: 'print {"file","fingerprint","contacts","messages","bytes"} as JSON' })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Export)
    const paths = this.paths(flags.home)
    const file = resolve(args.file)
    await assertInitialised(paths)
    if (!flags.force && await access(file).then(() => true, () => false)) throw errors.BAD_ARGUMENT(`${file} exists; pass --force to replace it`)
    const passphrase = await getPassphrase(flags)
    const backupPass = await getNewPassphrase({ 'passphrase-file': flags['backup-passphrase-file'] }, BACKUP_SOURCES)
    // a running daemon holds the store: it hands over the contacts (and history), never the keys
    const daemon = await findDaemon(paths)
    const viaDaemon = daemon === undefined ? undefined : async (history: boolean) => await daemon.call('backup.body', { history })
    const { file: bytes, summary } = await exportBackup(paths, passphrase, backupPass, { history: flags.history }, viaDaemon).finally(() => daemon?.close())
    await writeFileAtomic(file, bytes, { mode: 0o600 })
    process.stderr.write(BACKUP_WARNING + '\n')
    if (flags.json) { this.printJson({ file, ...summary }); return }
    this.log(`Wrote ${file}: identity ${summary.fingerprint}, ${summary.contacts} contact${summary.contacts === 1 ? '' : 's'}${summary.messages === null ? '' : `, ${summary.messages} message${summary.messages === 1 ? '' : 's'}`}`)
  }
}
