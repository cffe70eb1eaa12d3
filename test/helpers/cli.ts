// Runs the real built `dmess` binary (bin/run.js → dist/) in a child process, as a user would.
import { spawn } from 'node:child_process'
import type { Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')

export interface CliResult { code: number | null, stdout: string, stderr: string }

export interface CliOptions {
  env?: Record<string, string | undefined>
  input?: string
  timeoutMs?: number
  /** node flags for the CLI process (before its script) */
  nodeFlags?: string[]
}

export async function runCli (args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) if (v !== undefined) env[k] = v
  // never inherit a passphrase or home from the developer's shell unless the test passes one
  if (!opts.env || !('DMESS_PASSPHRASE' in opts.env)) delete env.DMESS_PASSPHRASE
  if (!opts.env || !('DMESS_HOME' in opts.env)) delete env.DMESS_HOME
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += d })
  child.stderr.on('data', d => { stderr += d })
  child.stdin.end(opts.input ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000)
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(timer)
  return { code, stdout, stderr }
}

export async function tempHome (t: { teardown: (fn: () => Promise<void> | void) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-test-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A user error: exactly one line on stderr, non-zero exit, no stack trace. */
export function assertOneLineError (t: Test, r: CliResult, pattern: RegExp): void {
  t.not(r.code, 0, 'exits non-zero')
  const lines = r.stderr.trim().split('\n')
  t.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`)
  t.match(r.stderr, pattern)
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
}
