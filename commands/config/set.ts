import { Args } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { noteConfigNeedsRestart } from '../../src/cli/daemon-client.js'
import { setConfigValue } from '../../src/config/config.js'
import { ensureHome } from '../../src/config/home.js'

export default class ConfigSet extends BaseCommand {
  static override description = 'Set a configuration value in config.yaml'
  static override examples = ['<%= config.bin %> config set port 47000', '<%= config.bin %> config set bootstrap 10.0.0.1:47474,10.0.0.2:47474']
  static override args = {
    key: Args.string({ required: true, description: 'config key (see `dmess config list`)' }),
    value: Args.string({ required: true, description: 'new value' })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(ConfigSet)
    const paths = this.paths(flags.home)
    await ensureHome(paths.home)
    const value = await setConfigValue(paths.config, args.key, args.value)
    this.log(`${args.key} = ${Array.isArray(value) ? value.join(',') : String(value)}`)
    await noteConfigNeedsRestart(paths, line => process.stderr.write(line))
  }
}
