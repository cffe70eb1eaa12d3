// Structured logs for the daemon: pino, one JSON object per line on stderr (a detached daemon's
// stderr is <home>/daemon.log), or, for a person at a terminal (`dmess daemon` in the foreground),
// the same records as readable lines: time, level, message, key=value fields. Secrets and message
// bodies are never logged: callers log ids, counts and method names, and the redaction below is a
// second line of defence (it runs before either format).
import { writeSync } from 'node:fs'
import { isatty } from 'node:tty'
import { pino, type Logger, type LevelWithSilent } from 'pino'
import { RotatingLog, type LogRotation } from './log-rotate.js'

export type { Logger }

/** Field names that may hold a secret or user content, at the top level and one level down. */
const REDACT_FIELDS = ['passphrase', 'storeKey', 'secret', 'signSecret', 'dhSecret', 'text', 'body', 'payload', 'params']
export const REDACT_PATHS = REDACT_FIELDS.flatMap(f => [f, `*.${f}`])

export type LogFormat = 'json' | 'text'
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text']

export interface LogOptions {
  level: LevelWithSilent
  /** file descriptor to write to (default 2, stderr) */
  fd?: number
  /** default: text when `fd` is a terminal, else JSON (a file, a pipe, a log collector) */
  format?: LogFormat
  /** the file behind fd, rotated by size (src/daemon/log-rotate.ts); absent: never rotated */
  rotate?: LogRotation
}

export function createLogger (opts: LogOptions): Logger {
  const fd = opts.fd ?? 2
  const format = opts.format ?? (isatty(fd) ? 'text' : 'json')
  // synchronous writes: the lines written just before a shutdown or a crash are the useful ones
  const dest = format === 'text'
    ? { write: (line: string): void => { writeSync(fd, textLine(line) + '\n') } }
    : opts.rotate === undefined ? pino.destination({ dest: fd, sync: true }) : new RotatingLog(fd, opts.rotate)
  return pino({
    level: opts.level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime
  }, dest)
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
/** Fields every record has, shown in the line's head or not at all. */
const HEAD_FIELDS = new Set(['time', 'level', 'msg', 'pid', 'hostname'])

/**
 * One pino JSON record as a line for a person: `02:50:01.123 WARN  message key=value …`.
 * Values that are not plain words are quoted as JSON strings (objects as JSON), so a field
 * cannot fake another field or a line break (a peer chose some of them: names, addresses).
 */
export function textLine (json: string): string {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(json) as Record<string, unknown>
  } catch {
    return JSON.stringify(json.trimEnd())
  }
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 23) : ''
  const level = (LEVEL_NAMES[rec.level as number] ?? String(rec.level)).padEnd(5)
  const msg = typeof rec.msg === 'string' ? (hasControl(rec.msg) ? JSON.stringify(rec.msg) : rec.msg) : ''
  const fields = Object.entries(rec).filter(([k]) => !HEAD_FIELDS.has(k)).map(([k, v]) => `${k}=${fieldValue(v)}`)
  return [time, level, msg, ...fields].filter(x => x !== '').join(' ')
}

function fieldValue (v: unknown): string {
  if (typeof v === 'string') return quoteIfNeeded(v, /^[\w.:@/[\]+-]+$/)
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v)
  return JSON.stringify(v) ?? 'undefined'
}

/** C0 and C1 controls (a line break, an escape sequence): such a message is shown quoted. */
function hasControl (s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) as number
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true
  }
  return false
}

function quoteIfNeeded (s: string, plain: RegExp): string {
  return s !== '' && plain.test(s) ? s : JSON.stringify(s)
}

/** A logger that drops everything (tests, and commands that run methods without a daemon). */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
