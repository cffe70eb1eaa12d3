import { Flags } from '@oclif/core'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { BaseCommand } from '../../src/cli/base.js'
import { checkPassphraseFile, findSystemctl, systemctl, unitPath, writeUnit } from '../../src/cli/service.js'
import { UNIT_NAME } from '../../src/cli/systemd-unit.js'
import { errors } from '../../src/errors.js'
import { getPassphrase } from '../../src/cli/passphrase.js'
import { lock, unlock } from '../../src/app/profile.js'

export default class ServiceInstall extends BaseCommand {
  static override description = 'Run the daemon as a systemd user service: write ~/.config/systemd/user/dmess.service, enable and start it'
  static override examples = [
    'install -m 600 /dev/stdin ~/.config/dmess-passphrase <<< "$PASSPHRASE" && <%= config.bin %> service install --passphrase-file ~/.config/dmess-passphrase'
  ]

  static override flags = {
    'passphrase-file': Flags.string({ required: true, description: 'file holding the passphrase (mode 0600), read by systemd at every start: the daemon must unlock your keys unattended' }),
    'no-start': Flags.boolean({ description: 'write the unit only; do not run systemctl' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(ServiceInstall)
    const paths = this.paths(flags.home)
    if (!await access(paths.keystore).then(() => true, () => false)) throw errors.NO_IDENTITY(`no identity in ${paths.home}; create one with \`dmess init\``)
    const passphraseFile = await checkPassphraseFile(flags['passphrase-file'])
    // a passphrase that does not unlock would have systemd restart a failing daemon forever
    lock(await unlock(paths, await getPassphrase({ 'passphrase-file': passphraseFile })))
    const path = unitPath()
    const changed = await writeUnit({ node: process.execPath, bin: join(this.config.root, 'bin', 'run.js'), home: paths.home, passphraseFile }, path)
    this.log(`${changed ? 'Wrote' : 'Unchanged:'} ${path}`)
    const bin = flags['no-start'] ? undefined : await findSystemctl()
    if (bin === undefined) {
      this.log(`To start it now and at every login: systemctl --user daemon-reload && systemctl --user enable --now ${UNIT_NAME}`)
      return
    }
    for (const args of [['daemon-reload'], ['enable', '--now', UNIT_NAME]]) {
      const r = await systemctl(bin, args)
      if (r.code !== 0) throw errors.BAD_ARGUMENT(`systemctl --user ${args.join(' ')} failed (${r.out || `exit ${r.code}`}); the unit is written: run it again where your user's systemd runs`)
    }
    // a unit that was running with an older file keeps it until restarted
    if (changed) await systemctl(bin, ['try-restart', UNIT_NAME])
    this.log(`Enabled and started ${UNIT_NAME}: it starts at login (\`loginctl enable-linger\` for at boot); \`systemctl --user status dmess\`, \`journalctl --user -u dmess\``)
  }
}
