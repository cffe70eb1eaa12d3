import { Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { findSystemctl, removeUnit, systemctl, unitPath } from '../../src/cli/service.js'
import { UNIT_NAME } from '../../src/cli/systemd-unit.js'

export default class ServiceUninstall extends BaseCommand {
  static override description = 'Stop and disable the dmess systemd user service and remove its unit (the passphrase file is left alone)'

  static override flags = {
    'no-stop': Flags.boolean({ description: 'remove the unit only; do not run systemctl' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(ServiceUninstall)
    const path = unitPath()
    const bin = flags['no-stop'] ? undefined : await findSystemctl()
    // disable first: systemctl needs the unit file to know what to disable
    if (bin !== undefined) await systemctl(bin, ['disable', '--now', UNIT_NAME])
    const had = await removeUnit(path)
    if (bin !== undefined) await systemctl(bin, ['daemon-reload'])
    this.log(had ? `Removed ${path}` : `Not installed (no ${path})`)
    if (had && bin === undefined) this.log(`If it runs: systemctl --user disable --now ${UNIT_NAME} && systemctl --user daemon-reload`)
  }
}
