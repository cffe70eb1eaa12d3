// `dmess service install|uninstall|status`: the systemd user unit (src/cli/systemd-unit.ts) in
// $XDG_CONFIG_HOME/systemd/user (default ~/.config/systemd/user, systemd.unit(5) "user unit
// search path"), and `systemctl --user` when it is on PATH; without it, what to run instead.
import { execFile } from 'node:child_process'
import { access, constants, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { delimiter, isAbsolute, join, resolve } from 'node:path'
import { errors } from '../errors.js'
import { UNIT_NAME, unitText, type UnitInputs } from './systemd-unit.js'

export function unitPath (env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME !== undefined && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config')
  return join(config, 'systemd', 'user', UNIT_NAME)
}

/** The passphrase file must exist and be the user's alone: the service reads it at every start. */
export async function checkPassphraseFile (path: string): Promise<string> {
  const abs = resolve(path)
  let st
  try {
    st = await stat(abs)
  } catch {
    throw errors.BAD_ARGUMENT(`cannot read the passphrase file ${abs}`)
  }
  if (!st.isFile()) throw errors.BAD_ARGUMENT(`the passphrase file ${abs} is not a file`)
  if ((st.mode & 0o077) !== 0) throw errors.BAD_ARGUMENT(`the passphrase file ${abs} can be read by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it first`)
  return abs
}

/** Writes the unit (atomically); whether the file changed. */
export async function writeUnit (u: UnitInputs, path = unitPath()): Promise<boolean> {
  const text = unitText(u)
  const old = await readFile(path, 'utf8').catch(() => undefined)
  if (old === text) return false
  await mkdir(join(path, '..'), { recursive: true })
  const tmp = `${path}.tmp`
  await writeFile(tmp, text, { mode: 0o644 })
  await rename(tmp, path)
  return true
}

/** Removes the unit; whether there was one. */
export async function removeUnit (path = unitPath()): Promise<boolean> {
  const had = await access(path).then(() => true, () => false)
  await rm(path, { force: true })
  return had
}

/** `systemctl` on PATH, else undefined. */
export async function findSystemctl (env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(d => d !== '')) {
    const p = join(dir, 'systemctl')
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p
  }
  return undefined
}

export interface Run { code: number, out: string }

/** Runs `systemctl --user <args>`; never throws. */
export async function systemctl (bin: string, args: string[]): Promise<Run> {
  return await new Promise(resolve => {
    execFile(bin, ['--user', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1
      resolve({ code, out: `${stdout}${stderr}`.trim().split('\n')[0] ?? '' })
    })
  })
}
