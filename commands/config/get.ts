import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { loadConfig } from '../../src/config/config.js'
import { isConfigKey } from '../../src/config/schema.js'
import { errors } from '../../src/errors.js'

export default class ConfigGet extends BaseCommand {
  static override description = 'Print one configuration value (the default if unset)'
  static override examples = ['<%= config.bin %> config get port']
  static override args = { key: Args.string({ required: true, description: 'config key' }) }
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(ConfigGet)
    if (!isConfigKey(args.key)) throw errors.BAD_CONFIG(`unknown config key "${args.key}"`)
    const { config } = await loadConfig(this.paths(flags.home).config)
    const value = config[args.key]
    if (flags.json) this.printJson(value)
    else this.log(Array.isArray(value) ? value.join(',') : String(value))
  }
}
