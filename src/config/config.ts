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

/** config.yaml as a YAML document (comments kept), or an empty one when there is no file. */
async function readDocument (path: string): Promise<YAML.Document> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new YAML.Document()
    throw err
  }
  const doc = YAML.parseDocument(text)
  if (doc.errors.length > 0) throw errors.BAD_CONFIG(`${path} is not valid YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`)
  const contents: unknown = doc.contents
  if (contents !== null && !YAML.isMap(contents)) throw errors.BAD_CONFIG(`${path} must be a mapping of keys to values`)
  return doc
}

async function readRaw (path: string): Promise<Record<string, unknown>> {
  const js: unknown = (await readDocument(path)).toJS()
  return js === null || js === undefined ? {} : js as Record<string, unknown>
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

/**
 * Sets one key, keeping the rest of the file as the user left it: other keys (including ones we
 * don't know), comments and the commented template `dmess init` wrote.
 */
export async function setConfigValue (path: string, key: string, text: string): Promise<ConfigValue> {
  const value = parseConfigValue(key, text)
  const doc = await readDocument(path)
  doc.set(key, value)
  await writeFileAtomic(path, doc.toString(), { mode: 0o600 })
  return value
}

/** Removes a key so its default applies again; comments stay. */
export async function unsetConfigValue (path: string, key: string): Promise<void> {
  if (!isConfigKey(key)) throw errors.BAD_CONFIG(`unknown config key "${key}"`)
  const doc = await readDocument(path)
  doc.delete(key)
  await writeFileAtomic(path, doc.toString(), { mode: 0o600 })
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
