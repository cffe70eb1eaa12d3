#!/usr/bin/env node
// Runs the whole tap suite, passing its output through, then prints one closing line
// `N passed, N failed` so a reader of a CI log sees the count at a glance; when tap exits
// non-zero with no failed test (coverage below a .taprc threshold, say) the line counts that as
// a failure and says why (scripts/test-verdict.mjs).
// Extra arguments are handed to tap (e.g. `npm test -- test/crypto`), except `--fast`: only the
// files scripts/test-groups.mjs does not list as slow, with no coverage check and no build, run
// under tsx in a few processes (scripts/fast-run.mjs) rather than by tap's runner; `--jobs=N`
// sets how many at once, and any other option hands the fast files to tap as before.
// Tests get a private TMPDIR for this run. Every test home lives in it, so a daemon a test left
// running (tap killed the file at its timeout before its teardown ran) names it on its command
// line: such processes were started by this run, and are stopped and reported at the end.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { isUpToDate } from './build-stamp.mjs'
import { fastFiles, slowFilesIn, SLOW_AFTER_MS } from './test-groups.mjs'
import { parseThresholds, verdict } from './test-verdict.mjs'
import { runFast } from './fast-run.mjs'

const fast = process.argv.includes('--fast')
const tapArgs = process.argv.slice(2).filter(a => a !== '--fast')

// The native AEAD is rebuilt when its C source changed since `npm ci` built it (a no-op otherwise).
spawnSync(process.execPath, ['scripts/build-native.mjs'], { stdio: 'inherit' })
// CLI tests run the built binary: build first so they never test a stale dist/. `npm run build`
// (tsc, the daemon bundle, the oclif manifest) stamps dist/ with a hash of its inputs
// (scripts/build-stamp.mjs): after `npm ci`, which built, nothing is built twice; after an edit
// to src/ or commands/ it is. The fast tests import the sources and run nothing built.
if (fast) {
  console.log('# --fast: the build is not needed (no test here runs dist/)')
} else if (isUpToDate()) {
  console.log('# dist/ is up to date with its inputs (scripts/build-stamp.mjs): not rebuilt')
} else {
  const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' })
  if (build.status !== 0) {
    console.log('\n0 passed, 1 failed (the build failed)')
    process.exit(1)
  }
}

if (fast) {
  // Positional paths narrow the fast set (`npm test -- --fast test/crypto`); options pass through.
  const positional = tapArgs.filter(a => !a.startsWith('-'))
  const options = tapArgs.filter(a => a.startsWith('-'))
  const files = fastFiles(positional)
  const slow = slowFilesIn(positional)
  console.log(`# --fast: ${files.length} files; ${slow.length} slow ones left out (scripts/test-groups.mjs); coverage is not checked`)
  tapArgs.length = 0
  tapArgs.push('--disable-coverage', ...options, ...files)
  if (files.length === 0) {
    console.log('\n0 passed, 1 failed (of 0 tests: no fast test file matches)')
    process.exit(1)
  }
}
const jobsOption = /^(?:--jobs=|-j)(\d+)$/
const ownRunner = fast && tapArgs.every(a => !a.startsWith('-') || a === '--disable-coverage' || jobsOption.test(a))

const runTmp = mkdtempSync(join(tmpdir(), 'dmess-run-'))
const env = { ...process.env, TMPDIR: runTmp }
if (ownRunner) {
  const jobs = Number(tapArgs.map(a => jobsOption.exec(a)?.[1]).find(Boolean) ?? Math.max(2, availableParallelism()))
  const timeout = Number(/^timeout:\s*(\d+)/m.exec(readFileSync('.taprc', 'utf8'))?.[1] ?? 30)
  const r = await runFast(tapArgs.filter(a => !a.startsWith('-')), { jobs, env, timeoutMs: timeout * 1000 })
  const output = r.results.map(x => `${x.ok ? 'ok' : 'not ok'} 1 - ${x.file} # time=${x.ms}ms`).join('\n') + `\n# { total: ${r.total}, pass: ${r.pass}${r.fail ? `, fail: ${r.fail}` : ''} }\n`
  await finish(output, r.fail > 0 ? 1 : 0, null, 'files')
}
const child = ownRunner ? null : spawn('npx', ['tap', ...tapArgs], { stdio: ['inherit', 'pipe', 'inherit'], env })
let output = ''
let partial = ''
child?.stdout.setEncoding('utf8')
child?.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  // Top-level lines only: per-file results, the coverage table, the summary. Bounded in size.
  const lines = (partial + chunk).split('\n')
  partial = lines.pop()
  for (const line of lines) if (line !== '' && !line.startsWith(' ')) output += line + '\n'
  if (output.length > 4_000_000) output = output.slice(-2_000_000)
})
child?.stdout.on('end', () => { if (partial !== '' && !partial.startsWith(' ')) output += partial + '\n' })
/** PIDs (not ours) whose command line names a path inside `dir`. */
function processesUsing (dir) {
  const found = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ')
      if (cmd.includes(dir + '/')) found.push({ pid: Number(name), cmd: cmd.trim().slice(0, 160) })
    } catch { /* gone already, or not Linux */ }
  }
  return found
}

async function stopLeftovers (dir) {
  const left = processesUsing(dir)
  for (const p of left) {
    console.log(`# a test left pid ${p.pid} running: ${p.cmd}`)
    try { process.kill(p.pid, 'SIGTERM') } catch { /* exited meanwhile */ }
  }
  for (let i = 0; i < 50 && processesUsing(dir).length > 0; i++) await new Promise(resolve => setTimeout(resolve, 100))
  for (const p of processesUsing(dir)) try { process.kill(p.pid, 'SIGKILL') } catch { /* exited meanwhile */ }
  return left.length
}

child?.on('close', async (code, signal) => { await finish(output, code, signal) })

/** Stops what the tests left running, then prints the closing line and exits. */
async function finish (output, code, signal, unit = '') {
  const leftovers = await stopLeftovers(runTmp)
  rmSync(runTmp, { recursive: true, force: true })
  if (leftovers > 0) console.log(`# stopped ${leftovers} process(es) that tests left running`)
  if (fast) {
    // A file that grew slow belongs in the slow list: say so where the developer looks.
    for (const m of output.matchAll(/^(?:not )?ok \d+ - (\S+) # time=([\d.]+)ms/gm)) {
      if (Number(m[2]) > SLOW_AFTER_MS) console.log(`# ${m[1]} took ${(Number(m[2]) / 1000).toFixed(1)} s: list it in scripts/test-groups.mjs SLOW`)
    }
  }
  let thresholds = {}
  try { thresholds = parseThresholds(readFileSync('.taprc', 'utf8')) } catch { /* no .taprc: no thresholds */ }
  const v = verdict({ output, code, signal, thresholds, coverageChecked: !fast, unit })
  console.log(`\n${v.line}`)
  process.exit(v.exitCode)
}
