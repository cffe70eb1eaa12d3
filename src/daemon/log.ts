// Structured logs for the daemon: pino, one JSON object per line on stderr (a detached daemon's
// stderr is <home>/daemon.log). Secrets and message bodies are never logged: callers log ids,
// counts and method names, and the redaction below is a second line of defence.
import { pino, type Logger, type LevelWithSilent } from 'pino'
import { RotatingLog, type LogRotation } from './log-rotate.js'

export type { Logger }

/** Field names that may hold a secret or user content, at the top level and one level down. */
const REDACT_FIELDS = ['passphrase', 'storeKey', 'secret', 'signSecret', 'dhSecret', 'text', 'body', 'payload', 'params']
export const REDACT_PATHS = REDACT_FIELDS.flatMap(f => [f, `*.${f}`])

export interface LogOptions {
  level: LevelWithSilent
  /** file descriptor to write to (default 2, stderr) */
  fd?: number
  /** the file behind fd, rotated by size (src/daemon/log-rotate.ts); absent: never rotated */
  rotate?: LogRotation
}

export function createLogger (opts: LogOptions): Logger {
  // synchronous writes: the lines written just before a shutdown or a crash are the useful ones
  return pino({
    level: opts.level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime
  }, opts.rotate === undefined ? pino.destination({ dest: opts.fd ?? 2, sync: true }) : new RotatingLog(opts.fd ?? 2, opts.rotate))
}

/** A logger that drops everything (tests, and commands that run methods without a daemon). */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
