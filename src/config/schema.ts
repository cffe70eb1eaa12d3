// The config file's keys: one table with type, default and a line of documentation each.
// `dmess config list` prints this table merged with the file; the README documents it from here.
import { isIP } from 'node:net'
import { errors } from '../errors.js'
import { hostPortFromText } from '../io/address.js'
import { isTerminalSafe } from '../platform/terminal-text.js'

export type ConfigValue = string | number | boolean | string[]

interface KeySpec<T extends ConfigValue> {
  default: T
  doc: string
  parse: (text: string) => T
  check: (value: unknown) => value is T
}

const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535

function parsePort (text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !isPort(n)) throw errors.BAD_CONFIG(`expected a UDP port 0-65535, got "${text}"`)
  return n
}

function parseBool (text: string): boolean {
  const t = text.trim().toLowerCase()
  if (['true', 'yes', 'on', '1'].includes(t)) return true
  if (['false', 'no', 'off', '0'].includes(t)) return false
  throw errors.BAD_CONFIG(`expected true or false, got "${text}"`)
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0

/** A whole number ≥ 0 (bytes, days, transfers); `what` names it in the error. */
function parseCount (text: string, what: string): number {
  const n = Number(text.trim())
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw errors.BAD_CONFIG(`expected ${what}, got "${text}"`)
  return n
}

/** "host:port" (IPv6 as "[addr]:port") with a port the daemon can dial, 1-65535: what --bootstrap takes. */
function isHostPort (text: string): boolean {
  return hostPortFromText(text) !== null
}

function parseHostPortList (text: string): string[] {
  const items = text.split(',').map(s => s.trim()).filter(Boolean)
  for (const item of items) {
    if (!isHostPort(item)) throw errors.BAD_CONFIG(`expected host:port entries (port 1-65535) separated by commas, got "${item}"`)
  }
  return items
}

function parseBindHost (text: string): string {
  const t = text.trim()
  if (isIP(t) === 0) throw errors.BAD_CONFIG(`expected an IP address to bind to (0.0.0.0: every interface; :: for IPv6), got "${text}"`)
  return t
}

function oneOf<T extends string> (values: readonly T[]) {
  return {
    parse (text: string): T {
      const t = text.trim() as T
      if (!values.includes(t)) throw errors.BAD_CONFIG(`expected one of ${values.join(', ')}, got "${text}"`)
      return t
    },
    check: (v: unknown): v is T => typeof v === 'string' && (values as readonly string[]).includes(v)
  }
}

const isLogMaxBytes = (v: unknown): v is number => Number.isSafeInteger(v) && ((v as number) === 0 || (v as number) >= 1024)
const isLogKeep = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100

/** config "notify": desktop notifications for messages and strangers' contact requests while no chat is open (src/daemon/notify.ts) */
export const NOTIFY_MODES = ['off', 'sender', 'body'] as const
export type NotifyMode = typeof NOTIFY_MODES[number]
const notifyModes = oneOf(NOTIFY_MODES)

const logLevels = oneOf(['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const)

export const CONFIG_SCHEMA = {
  name: {
    default: '',
    doc: 'display name offered to contacts in invites and contact requests (empty: none)',
    parse: (t: string) => {
      if (Buffer.byteLength(t) > 64) throw errors.BAD_CONFIG('name must be at most 64 bytes')
      // contacts would refuse it: a CONTACT_REQUEST's name holds none (proto-spec/envelope.md §3.5)
      if (!isTerminalSafe(t)) throw errors.BAD_CONFIG('name must not hold control characters (escape sequences, newlines, tabs) or invisible formatting characters')
      return t
    },
    check: (v: unknown): v is string => typeof v === 'string' && isTerminalSafe(v)
  },
  port: {
    default: 47474,
    doc: 'UDP port the daemon listens on (0: any free port)',
    parse: parsePort,
    check: isPort
  },
  host: {
    default: '0.0.0.0',
    doc: 'address the daemon binds its UDP socket to',
    parse: parseBindHost,
    check: (v: unknown): v is string => typeof v === 'string' && isIP(v) !== 0
  },
  mdns: {
    default: true,
    doc: 'announce and discover peers on the LAN with mDNS',
    parse: parseBool,
    check: (v: unknown): v is boolean => typeof v === 'boolean'
  },
  bootstrap: {
    default: [] as string[],
    doc: 'DHT bootstrap nodes as host:port, comma separated (empty: bootstrap/nodes.json)',
    parse: parseHostPortList,
    check: (v: unknown): v is string[] => Array.isArray(v) && v.every(x => typeof x === 'string' && isHostPort(x))
  },
  downloadDir: {
    default: '',
    doc: 'where received files go (empty: $XDG_DOWNLOAD_DIR/dmess, else ~/Downloads/dmess); read when the daemon starts',
    parse: (t: string) => t.trim(),
    check: (v: unknown): v is string => typeof v === 'string'
  },
  autoAcceptBytes: {
    default: 16 * 1024 * 1024,
    doc: 'files from contacts up to this many bytes are accepted without asking (0: always ask); read when the daemon starts',
    parse: (t: string) => parseCount(t, 'a number of bytes'),
    check: isCount
  },
  autoAcceptPendingBytes: {
    default: 64 * 1024 * 1024,
    doc: 'a file is accepted without asking only while the files accepted from that contact and not yet received, it included, stay within this many bytes: many small files cannot fill your disk; above it you are asked; read when the daemon starts',
    parse: (t: string) => parseCount(t, 'a number of bytes'),
    check: isCount
  },
  transfersKeepDays: {
    default: 30,
    doc: 'finished, declined, cancelled and failed file transfers are forgotten this many days after they ended (received files stay where they are; 0: not by age); read when the daemon starts',
    parse: (t: string) => parseCount(t, 'a number of days'),
    check: isCount
  },
  transfersKeep: {
    default: 500,
    doc: 'at most this many ended file transfers are kept in `dmess files`, the oldest forgotten first (at least 1); read when the daemon starts',
    parse: (t: string) => {
      const n = parseCount(t, 'a number of transfers')
      if (n < 1) throw errors.BAD_CONFIG(`expected at least 1 transfer, got "${t}"`)
      return n
    },
    check: (v: unknown): v is number => isCount(v) && v >= 1
  },
  notify: {
    default: 'off' as NotifyMode,
    doc: 'desktop notifications (notify-send) for messages and strangers\' contact requests that arrive while no chat is open: off, sender (who wrote), body (who and the text, which then sits in the desktop\'s notification history); read when the daemon starts',
    parse: notifyModes.parse,
    check: notifyModes.check
  },
  logLevel: {
    default: 'info',
    doc: 'daemon log level: trace, debug, info, warn, error, silent',
    parse: logLevels.parse,
    check: logLevels.check
  },
  logMaxBytes: {
    default: 10 * 1024 * 1024,
    doc: 'a detached daemon\'s daemon.log is rotated when it reaches this many bytes (0: never; at least 1024)',
    parse: (t: string) => {
      const n = Number(t)
      if (!/^\d+$/.test(t.trim()) || !isLogMaxBytes(n)) throw errors.BAD_CONFIG(`expected 0 or a size in bytes of at least 1024, got "${t}"`)
      return n
    },
    check: isLogMaxBytes
  },
  logKeep: {
    default: 3,
    doc: 'rotated daemon logs kept: daemon.log.1 (newest) to daemon.log.N (0-100)',
    parse: (t: string) => {
      const n = Number(t)
      if (!/^\d+$/.test(t.trim()) || !isLogKeep(n)) throw errors.BAD_CONFIG(`expected a count 0-100, got "${t}"`)
      return n
    },
    check: isLogKeep
  }
} satisfies Record<string, KeySpec<ConfigValue>>

export type ConfigKey = keyof typeof CONFIG_SCHEMA
export type Config = { [K in ConfigKey]: (typeof CONFIG_SCHEMA)[K]['default'] }

export function isConfigKey (key: string): key is ConfigKey {
  return Object.prototype.hasOwnProperty.call(CONFIG_SCHEMA, key)
}

export function defaultConfig (): Config {
  const out: Record<string, ConfigValue> = {}
  for (const [k, spec] of Object.entries(CONFIG_SCHEMA)) {
    out[k] = Array.isArray(spec.default) ? [...spec.default] : spec.default
  }
  return out as Config
}
