// The README's first set-up command gives the user a `dmess` on PATH (`npm run setup`,
// scripts/link-bin.mjs): run here as written, after the `npm ci` this checkout already had, with
// a throw-away HOME and PATH so nothing outside the test's directory is touched. Then what an
// interrupted or repeated set-up leaves behind, and what it must never overwrite.
import t from 'tap'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { REPO_ROOT } from '../../scripts/build-stamp.mjs'
import { chooseDir } from '../../scripts/link-bin.mjs'

const SCRIPT = join(REPO_ROOT, 'scripts', 'link-bin.mjs')
const RUN_JS = join(REPO_ROOT, 'bin', 'run.js')

/** A sandbox: HOME with an empty ~/.local/bin on PATH, before the directories node and sh live in. */
function sandbox (t: { testdir: () => string }): { home: string, bin: string, env: NodeJS.ProcessEnv } {
  const home = t.testdir()
  const bin = join(home, '.local', 'bin')
  mkdirSync(bin, { recursive: true })
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DMESS_') && !k.startsWith('npm_')) env[k] = v
  env.HOME = home
  env.PATH = [bin, dirname(process.execPath), '/usr/bin', '/bin'].join(':')
  return { home, bin, env }
}

function setup (env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [SCRIPT], { env, encoding: 'utf8', timeout: 30_000 })
}

t.test("the README's first command, after npm ci, leaves a working dmess on PATH", async t => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const first = /```sh\n([^\n]+)\n/.exec(readme)?.[1] ?? ''
  t.match(first, /^npm ci && npm run -s setup && dmess /, 'the first command sets up `dmess` right after npm ci')
  const { home, bin, env } = sandbox(t)
  const afterCi = first.replace(/^npm ci && npm run -s setup && /, '')
  t.ok(setup(env).status === 0, 'npm run setup')
  const r = spawnSync('sh', ['-c', afterCi], { env: { ...env, DMESS_HOME: join(home, 'dmess'), DMESS_PASSPHRASE: 'a good long passphrase' }, encoding: 'utf8', timeout: 120_000 })
  t.equal(r.status, 0, r.stderr)
  // the fingerprint in its groups of four (src/crypto/fingerprint.ts's alphabet), not any hex run:
  // a random identity need not print four hex digits in a row
  t.match(r.stdout, /Fingerprint: ([qpzry9x8gf2tvdw0s3jn54khce6mua7l]{1,4} ?)+$/m, 'the identity is shown')
  t.equal(readlinkSync(join(bin, 'dmess')), RUN_JS, 'the link points at this checkout')
})

t.test('set-up again, or after an interrupted run, is fine; a file that is not ours is never replaced', async t => {
  const { bin, env } = sandbox(t)
  t.equal(setup(env).status, 0)
  const again = setup(env)
  t.equal(again.status, 0, 'a second run succeeds')
  t.match(again.stdout, /dmess is .*\.local\/bin\/dmess -> /)
  // an interrupt between making the temporary link and renaming it leaves the temporary name
  symlinkSync(RUN_JS, join(bin, '.dmess.setup-tmp'))
  t.equal(setup(env).status, 0, 'a leftover temporary link does not stop it')
  t.notOk(existsSync(join(bin, '.dmess.setup-tmp')), 'and is gone')
  const v = spawnSync('dmess', ['--version'], { env, encoding: 'utf8', timeout: 30_000 })
  t.match(v.stdout, /^dmess\/\d+\.\d+\.\d+ /, '`dmess --version` through PATH')

  const other = sandbox(t)
  writeFileSync(join(other.bin, 'dmess'), '#!/bin/sh\necho mine\n')
  const refused = setup(other.env)
  t.equal(refused.status, 1)
  t.equal(refused.stderr.trim().split('\n').length, 1, 'one line')
  t.match(refused.stderr, /exists and is not a link to dmess/)
  t.equal(readFileSync(join(other.bin, 'dmess'), 'utf8'), '#!/bin/sh\necho mine\n', 'the user\'s file is untouched')
  t.ok(lstatSync(join(other.bin, 'dmess')).isFile())
})

t.test('where the link goes', async t => {
  const home = t.testdir()
  const local = join(home, '.local', 'bin')
  t.same(chooseDir({ PATH: `/nonexistent:${local}` }, home), { dir: local, onPath: true }, '~/.local/bin when it is on PATH (made if missing)')
  t.match(chooseDir({ PATH: '/nonexistent' }, home), { error: /add ~\/.local\/bin to PATH/ }, 'nowhere on PATH: says what to do')
  const chosen = join(home, 'elsewhere')
  t.same(chooseDir({ PATH: '', DMESS_BIN_DIR: chosen }, home), { dir: chosen, onPath: false }, 'DMESS_BIN_DIR wins')
})
