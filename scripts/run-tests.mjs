#!/usr/bin/env node
// Runs the whole suite, passing its output through, then prints one closing line
// `N passed, N failed` so a reader of a CI log sees the count at a glance; when the run fails with
// no failed test (coverage below a .taprc threshold, say) the line counts that as a failure and
// says why (scripts/test-verdict.mjs).
// The suite runs under scripts/suite-run.mjs, not tap's runner: the slow files (scripts/test-groups.mjs)
// one to a process, the rest about a dozen to a process, with coverage (scripts/coverage.mjs,
// scripts/coverage-report.mjs) checked against .taprc's thresholds. Positional paths narrow it
// (`npm test -- test/crypto`); `--jobs=N` sets how many processes at once; `--disable-coverage`
// skips the coverage; `--fast` runs only the files that are not slow, with no build and no
// coverage. Any other option hands the files to tap's runner (`npx tap`) as before.
// Tests get a private TMPDIR for this run. Every test home lives in it, so a daemon a test left
// running (tap killed the file at its timeout before its teardown ran) names it on its command
// line: such processes were started by this run, and are stopped and reported at the end.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { isUpToDate } from './build-stamp.mjs'
import { fastFiles, slowFilesIn, SLOW_AFTER_MS } from './test-groups.mjs'
import { coverageShortfall, parseThresholds, verdict } from './test-verdict.mjs'
import { failureRecap, recordDurations, runSuite } from './suite-run.mjs'
import { coverageReport } from './coverage-report.mjs'

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

const jobsOption = /^(?:--jobs=|-j)(\d+)$/
const positional = tapArgs.filter(a => !a.startsWith('-'))
const options = tapArgs.filter(a => a.startsWith('-'))
// Any option but these hands the files to tap's own runner (with tap's coverage), as before.
const ownRunner = options.every(a => a === '--disable-coverage' || jobsOption.test(a))
const runTmp = mkdtempSync(join(tmpdir(), 'dmess-run-'))
const env = { ...process.env, TMPDIR: runTmp }

if (ownRunner) {
  // Positional paths narrow the run (`npm test -- test/crypto`, `npm test -- --fast test/wire`).
  const batched = fastFiles(positional)
  const alone = fast ? [] : slowFilesIn(positional)
  const coverage = !fast && !options.includes('--disable-coverage')
  if (fast) console.log(`# --fast: ${batched.length} files; ${slowFilesIn(positional).length} slow ones left out (scripts/test-groups.mjs); coverage is not checked`)
  if (batched.length + alone.length === 0) {
    console.log('\n0 passed, 1 failed (of 0 tests: no test file matches)')
    process.exit(1)
  }
  const jobs = Number(options.map(a => jobsOption.exec(a)?.[1]).find(Boolean) ?? Math.max(2, availableParallelism()))
  const timeout = Number(/^timeout:\s*(\d+)/m.exec(readFileSync('.taprc', 'utf8'))?.[1] ?? 30)
  // outside runTmp: the files are the runner's, not the tests'
  const coverageDir = coverage ? mkdtempSync(join(tmpdir(), 'dmess-coverage-')) : undefined
  let output = ''
  const write = s => {
    process.stdout.write(s)
    // top-level lines only (per-file results), as from tap below
    for (const line of s.split('\n')) if (/^(not )?ok /.test(line)) output += line + '\n'
  }
  const r = await runSuite(batched, { alone, jobs, env, timeoutMs: timeout * 1000, coverageDir, write })
  if (process.env.DMESS_RECORD_DURATIONS === '1') recordDurations(r.results)
  output += `# { total: ${r.total}, pass: ${r.pass}${r.fail ? `, fail: ${r.fail}` : ''}${r.skip ? `, skip: ${r.skip}` : ''}${r.todo ? `, todo: ${r.todo}` : ''} }\n`
  let code = r.failedFiles > 0 ? 1 : 0
  if (coverageDir !== undefined) {
    let table = ''
    const totals = await coverageReport(coverageDir, { write: s => { table += s; process.stdout.write(s) } })
    rmSync(coverageDir, { recursive: true, force: true })
    if (totals === undefined) {
      console.log('# No coverage generated')
      output += '# No coverage generated\n'
      code = 1
    } else {
      output += table
      if (coverageShortfall(totals, parseThresholds(readFileSync('.taprc', 'utf8'))).length > 0) code = 1
    }
  }
  const recap = failureRecap(r.results)
  if (recap !== '') process.stdout.write('\n' + recap)
  await finish(output, code, null, coverage)
}
// `--fast` with an option of tap's: tap runs the fast files, without coverage
if (!ownRunner && fast) tapArgs.splice(0, tapArgs.length, '--disable-coverage', ...options, ...fastFiles(positional))
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
async function finish (output, code, signal, coverageChecked = !fast) {
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
  const v = verdict({ output, code, signal, thresholds, coverageChecked, uncheckedBecause: fast ? '--fast' : '--disable-coverage' })
  console.log(`\n${v.line}`)
  process.exit(v.exitCode)
}
