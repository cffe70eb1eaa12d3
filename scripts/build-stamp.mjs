#!/usr/bin/env node
// Whether dist/ was built from the sources as they are now. `npm run build` clears the stamp
// first and writes it last: a SHA-256 over the content (never the mtimes: a fresh clone has new
// mtimes and the same bytes) of everything the build reads. `npm test` (scripts/run-tests.mjs)
// skips the build when the stamp matches, so `npm ci && npm test` builds once, and rebuilds when
// a developer edited any input since.
//   node scripts/build-stamp.mjs clear|write|check   (check: exit 0 when up to date)
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * What the build reads: tsc compiles src/ and commands/ (tsconfig.json), scripts/bundle.ts bundles
 * the daemon, scripts/oclif-manifest.mjs lists the commands, scripts/man-pages.mjs writes their man
 * pages; package.json and the lock file fix
 * the compiler and bundler versions. Directories are taken whole, files by name; tsconfig*.json
 * by pattern.
 */
export const INPUTS = ['src', 'commands', 'scripts/bundle.ts', 'scripts/oclif-manifest.mjs', 'scripts/man-pages.mjs', 'package.json', 'package-lock.json']
const INPUT_PATTERNS = [/^tsconfig.*\.json$/]

export const STAMP = 'dist/.build-stamp'

function listFiles (root, rel, out) {
  let entries
  try {
    entries = readdirSync(join(root, rel), { withFileTypes: true })
  } catch (err) {
    if (err.code === 'ENOTDIR') { out.push(rel); return }
    if (err.code === 'ENOENT') return
    throw err
  }
  for (const e of entries) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`
    if (e.isDirectory()) listFiles(root, child, out)
    else if (e.isFile()) out.push(child)
  }
}

/** The build inputs under `root`, as sorted paths relative to it with `/` separators. */
export function inputFiles (root = REPO_ROOT) {
  const files = []
  for (const input of INPUTS) listFiles(root, input, files)
  for (const name of readdirSync(root)) if (INPUT_PATTERNS.some(p => p.test(name))) files.push(name)
  return [...new Set(files)].sort()
}

/** Hex SHA-256 over each input's path and bytes, in path order. */
export function inputsHash (root = REPO_ROOT) {
  const h = createHash('sha256')
  for (const file of inputFiles(root)) {
    const bytes = readFileSync(join(root, file))
    h.update(`${file}\0${bytes.length}\0`)
    h.update(bytes)
  }
  return h.digest('hex')
}

function stampPath (root) { return join(root, STAMP) }

/** The hash the last complete build recorded, or undefined. */
export function readStamp (root = REPO_ROOT) {
  try {
    return readFileSync(stampPath(root), 'utf8').trim()
  } catch {
    return undefined
  }
}

/** Whether dist/ was built from the inputs as they are now. */
export function isUpToDate (root = REPO_ROOT) {
  const stamp = readStamp(root)
  return stamp !== undefined && stamp === inputsHash(root)
}

export function writeStamp (root = REPO_ROOT) {
  mkdirSync(dirname(stampPath(root)), { recursive: true })
  writeFileSync(stampPath(root), inputsHash(root) + '\n')
}

export function clearStamp (root = REPO_ROOT) {
  rmSync(stampPath(root), { force: true })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cmd = process.argv[2]
  if (cmd === 'clear') clearStamp()
  else if (cmd === 'write') writeStamp()
  else if (cmd === 'check') process.exit(isUpToDate() ? 0 : 1)
  else {
    console.error(`usage: node ${relative(process.cwd(), fileURLToPath(import.meta.url))} clear|write|check`)
    process.exit(2)
  }
}
