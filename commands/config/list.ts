import { Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { loadConfig } from '../../src/config/config.js'
import { CONFIG_SCHEMA, type ConfigKey } from '../../src/config/schema.js'

export default class ConfigList extends BaseCommand {
  static override description = 'List every configuration key with its value, whether it is set, and what it does'
  static override flags = { json: Flags.boolean({ description: 'print as JSON' }) }

  async run (): Promise<void> {
    const { flags } = await this.parse(ConfigList)
    const path = this.paths(flags.home).config
    const { config, set, unknown } = await loadConfig(path)
    const rows = (Object.keys(CONFIG_SCHEMA) as ConfigKey[]).map(key => ({
      key, value: config[key], default: CONFIG_SCHEMA[key].default, set: set.has(key), doc: CONFIG_SCHEMA[key].doc
    }))
    if (flags.json) {
      this.printJson({ file: path, keys: rows, unknown })
      return
    }
    this.log(`# ${path}`)
    for (const r of rows) {
      const shown = Array.isArray(r.value) ? r.value.join(',') : String(r.value)
      this.log(`${r.key} = ${JSON.stringify(shown)}${r.set ? '' : ' (default)'}    # ${r.doc}`)
    }
    for (const k of Object.keys(unknown)) this.log(`${k} = ${JSON.stringify(unknown[k])} (unknown key, ignored)`)
  }
}
