// config.yaml in the home: read with defaults filled in, validated key by key, written atomically.
// Unknown keys are kept (a newer dmess may have written them) but reported by `config list`.
import { readFile } from 'node:fs/promises'
import YAML from 'yaml'
import { errors } from '../errors.js'
import { writeFileAtomic } from '../platform/fs.js'
import { CONFIG_SCHEMA, defaultConfig, isConfigKey, type Config, type ConfigKey, type ConfigValue } from './schema.js'

export interface LoadedConfig {
  config: Config
  /** keys explicitly set in the file */
  set: Set<ConfigKey>
  /** keys in the file this version does not know */
  unknown: Record<string, unknown>
}

async function readRaw (path: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  let doc: unknown
  try {
    doc = YAML.parse(text)
  } catch (err) {
    throw errors.BAD_CONFIG(`${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`)
  }
  if (doc === null || doc === undefined) return {}
  if (typeof doc !== 'object' || Array.isArray(doc)) throw errors.BAD_CONFIG(`${path} must be a mapping of keys to values`)
  return doc as Record<string, unknown>
}

export async function loadConfig (path: string): Promise<LoadedConfig> {
  const raw = await readRaw(path)
  const config = defaultConfig() as Record<string, ConfigValue>
  const set = new Set<ConfigKey>()
  const unknown: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (!isConfigKey(key)) { unknown[key] = value; continue }
    if (!CONFIG_SCHEMA[key].check(value)) throw errors.BAD_CONFIG(`${path}: "${key}" has an invalid value ${JSON.stringify(value)}`)
    config[key] = value as ConfigValue
    set.add(key)
  }
  return { config: config as Config, set, unknown }
}

export function parseConfigValue (key: string, text: string): ConfigValue {
  if (!isConfigKey(key)) throw errors.BAD_CONFIG(`unknown config key "${key}" (known: ${Object.keys(CONFIG_SCHEMA).join(', ')})`)
  return CONFIG_SCHEMA[key].parse(text)
}

/** Sets one key, keeping the rest of the file (including keys we don't know). */
export async function setConfigValue (path: string, key: string, text: string): Promise<ConfigValue> {
  const value = parseConfigValue(key, text)
  const raw = await readRaw(path)
  raw[key] = value
  await writeFileAtomic(path, YAML.stringify(raw), { mode: 0o600 })
  return value
}

/** Removes a key so its default applies again. */
export async function unsetConfigValue (path: string, key: string): Promise<void> {
  if (!isConfigKey(key)) throw errors.BAD_CONFIG(`unknown config key "${key}"`)
  const raw = await readRaw(path)
  delete raw[key]
  await writeFileAtomic(path, YAML.stringify(raw), { mode: 0o600 })
}

/** A commented default config, written by `dmess init` so users see what they can change. */
export function defaultConfigText (): string {
  const lines = ['# dmess configuration. Every key is optional; the value shown is the default.', '']
  for (const [key, spec] of Object.entries(CONFIG_SCHEMA)) {
    lines.push(`# ${spec.doc}`)
    lines.push(`# ${YAML.stringify({ [key]: spec.default }).trim()}`)
    lines.push('')
  }
  return lines.join('\n')
}
