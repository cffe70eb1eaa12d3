#!/usr/bin/env node
// `npm run setup`: puts `dmess` on the user's PATH as a symbolic link to this checkout's
// bin/run.js, so every later call is plain `dmess …` (no npx: npx installed the clone into its
// own cache, rebuilt it there, cost ~1 s per call, and an interrupted first run left that cache
// broken). Where the link goes: $DMESS_BIN_DIR if set; else the first of ~/.local/bin (the XDG
// place for a user's executables), ~/bin and /usr/local/bin that is on PATH and writable (or can
// be created). Nothing else is touched: no global npm prefix, no sudo.
//
// Safe to interrupt and to run again: the link is made under a temporary name and renamed over
// the old one (rename(2) is atomic), a leftover temporary link from an interrupted run is
// removed, and a file at the target that is not a link to a dmess checkout is never replaced.
import { existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, accessSync, constants, realpathSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const TARGET = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js')
const NAME = 'dmess'

/** Directories on PATH, as given, without empty entries. */
function pathDirs (env) {
  return (env.PATH ?? '').split(delimiter).filter(d => d !== '').map(d => resolve(d))
}

function writableDir (dir) {
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/** Where the link goes, or an error message. */
export function chooseDir (env = process.env, home = homedir()) {
  if (env.DMESS_BIN_DIR !== undefined && env.DMESS_BIN_DIR !== '') {
    const dir = resolve(env.DMESS_BIN_DIR)
    return writableDir(dir) ? { dir, onPath: pathDirs(env).includes(dir) } : { error: `cannot write to DMESS_BIN_DIR=${dir}` }
  }
  const onPath = pathDirs(env)
  for (const dir of [join(home, '.local', 'bin'), join(home, 'bin'), '/usr/local/bin']) {
    if (onPath.includes(dir) && writableDir(dir)) return { dir, onPath: true }
  }
  return { error: `none of ~/.local/bin, ~/bin, /usr/local/bin is on your PATH and writable; add ~/.local/bin to PATH (or set DMESS_BIN_DIR) and run npm run setup again` }
}

/** Whether `path` is a link we may replace: to some dmess checkout's bin/run.js. */
function ours (path) {
  try {
    if (!lstatSync(path).isSymbolicLink()) return false
  } catch {
    return true // nothing there
  }
  const to = readlinkSync(path)
  return to.endsWith(join('bin', 'run.js')) || !existsSync(path)
}

/** Makes <dir>/dmess point at this checkout's bin/run.js; returns the link's path. */
export function linkInto (dir, target = TARGET) {
  const link = join(dir, NAME)
  if (!ours(link)) throw new Error(`${link} exists and is not a link to dmess; remove it or set DMESS_BIN_DIR`)
  const tmp = join(dir, `.${NAME}.setup-tmp`)
  rmSync(tmp, { force: true })
  symlinkSync(target, tmp)
  renameSync(tmp, link)
  return link
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const chosen = chooseDir()
  if ('error' in chosen) {
    console.error(`dmess setup: ${chosen.error}`)
    process.exit(1)
  }
  try {
    const link = linkInto(chosen.dir)
    console.log(`dmess is ${link} -> ${TARGET}`)
    if (!chosen.onPath) console.log(`note: ${chosen.dir} is not on your PATH`)
  } catch (err) {
    console.error(`dmess setup: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
}
