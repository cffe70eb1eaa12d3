import { Flags } from '@oclif/core'
import { access } from 'node:fs/promises'
import { BaseCommand } from '../../src/cli/base.js'
import { findSystemctl, systemctl, unitPath } from '../../src/cli/service.js'
import { UNIT_NAME } from '../../src/cli/systemd-unit.js'

export default class ServiceStatus extends BaseCommand {
  static override description = 'Whether the dmess systemd user service is installed, enabled and active'

  static override flags = {
    json: Flags.boolean({ description: 'print {"unit","installed","enabled","active"} as JSON (enabled, active: null without systemctl)' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(ServiceStatus)
    const unit = unitPath()
    const installed = await access(unit).then(() => true, () => false)
    const bin = await findSystemctl()
    // is-enabled / is-active print one word, also when they exit non-zero ("disabled", "inactive")
    const enabled = bin === undefined ? null : (await systemctl(bin, ['is-enabled', UNIT_NAME])).out || 'unknown'
    const active = bin === undefined ? null : (await systemctl(bin, ['is-active', UNIT_NAME])).out || 'unknown'
    if (flags.json) { this.printJson({ unit, installed, enabled, active }); return }
    this.log(`${UNIT_NAME}: ${installed ? `installed (${unit})` : 'not installed'}`)
    if (bin === undefined) this.log('systemctl not found: enabled and active unknown')
    else this.log(`enabled: ${enabled}, active: ${active}`)
  }
}
