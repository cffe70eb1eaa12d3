import { Args } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { noteConfigNeedsRestart } from '../../src/cli/daemon-client.js'
import { unsetConfigValue } from '../../src/config/config.js'

export default class ConfigUnset extends BaseCommand {
  static override description = 'Remove a value from config.yaml so its default applies'
  static override args = { key: Args.string({ required: true, description: 'config key' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(ConfigUnset)
    const paths = this.paths(flags.home)
    await unsetConfigValue(paths.config, args.key)
    this.log(`${args.key} reset to default`)
    await noteConfigNeedsRestart(paths, line => process.stderr.write(line))
  }
}
