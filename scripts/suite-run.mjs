// The test runner behind `npm test` (scripts/run-tests.mjs), in place of tap's. A tap test file is
// a plain node script whose tests are subtests of tap's root test, so several files can run in one
// process: scripts/suite-batch.mjs imports them one after another. The files that start other
// processes or namespaces, or take long (scripts/test-groups.mjs SLOW), each run alone in their own
// process, as tap ran every file; the rest run about a dozen to a process. Measured on the 198 files
// that are not slow, with coverage: tap's runner 524 s of CPU (a process per file, each loading tap,
// two off-thread module loaders and its share of the sources again), here ~200 s.
//
// Every process loads the TypeScript through scripts/ts-loader.mjs and, for a run with coverage,
// scripts/coverage.mjs, which writes what it ran of src/ to `coverageDir`
// (scripts/coverage-report.mjs turns that into the table). Processes run `jobs` at a time, the
// longest expected first (scripts/test-durations.json, the per-file times of an earlier run), so
// that no long file starts last while the other cores sit idle.
//
// When a batch fails, or a crash or timeout ends it early, the files that did not pass in it run
// again alone, each in its own process: their results and output are then their own; a file whose
// tests failed in the batch but pass alone (it depends on process state other files leave) still
// counts as failed.
//
// Prints what tap's runner prints at the top level — `ok N - file # time=…ms` as each file ends,
// `not ok …` with the file's own output indented under it, then `# { total: N, pass: N, fail: N }`
// counting the files' tests — so scripts/test-verdict.mjs reads
// it as it read tap's.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { parseCounts } from './test-verdict.mjs'

const LOADER = ['--enable-source-maps', '--import', new URL('./ts-loader.mjs', import.meta.url).href]
const COVERAGE = ['--import', new URL('./coverage.mjs', import.meta.url).href]
const BATCH = new URL('./suite-batch.mjs', import.meta.url).pathname
const DURATIONS = new URL('./test-durations.json', import.meta.url)
const COUNT_KEYS = ['total', 'pass', 'fail', 'skip', 'todo']
// Process groups of the test processes now running: each is started detached (its own group, so a
// timeout kills the daemons it started too), which also keeps the terminal's Ctrl-C from reaching
// them; runSuite kills them when the runner itself is interrupted.
const running = new Set()

/**
 * Runs `node <args>`; resolves with its exit code (null when killed), wall time, stdout and
 * stderr. Past `timeoutMs` the process group is killed, as tap does at its timeout.
 */
function run (args, { env, timeoutMs, cwd, coverageDir, files = [] }) {
  return new Promise(resolve => {
    const started = Date.now()
    const child = spawn(process.execPath, [...LOADER, ...(coverageDir ? COVERAGE : []), ...args], {
      cwd,
      env: {
        ...env,
        // what tap's runner sets in a test's environment: tap prints plain TAP, and the daemon's
        // test-only hooks, which need it, are honoured (src/daemon/run.ts)
        TAP: '1',
        TAP_TIMEOUT: String(Math.ceil(timeoutMs / 1000)),
        DMESS_SUITE_FILES: files.join('\n'),
        ...(coverageDir ? { DMESS_COVERAGE_DIR: coverageDir } : {})
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', d => { if (out.length < 4_000_000) out += d })
    child.stderr.setEncoding('utf8').on('data', d => { if (err.length < 4_000_000) err += d })
    running.add(child.pid)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try { process.kill(-child.pid, 'SIGKILL') } catch { /* gone already */ }
    }, timeoutMs)
    child.on('close', (code, signal) => {
      running.delete(child.pid)
      clearTimeout(timer)
      resolve({ code, signal, timedOut, ms: Date.now() - started, out, err })
    })
  })
}

/** Test counts from a file's own closing summary; a file that printed none counts one failure. */
function ownCounts (out, ok) {
  const c = parseCounts(out)
  if (c === undefined) return { total: 1, pass: 0, fail: 1, skip: 0, todo: 0 }
  // it exited non-zero (a crash after its tests, a timeout) with nothing failed: one failure
  if (!ok && c.fail === 0) return { ...c, total: c.total + 1, fail: 1 }
  return c
}

/** One file alone: its result with all it printed. */
export async function runFile (file, opts) {
  const r = await run([file], opts)
  const ok = r.code === 0 && !r.timedOut
  return { file, ok, ms: r.ms, why: r.timedOut ? `timed out after ${r.ms} ms` : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`, out: r.out + r.err, counts: ownCounts(r.out, ok) }
}

/**
 * What a batch's TAP and stderr markers say of each file: `passed` (with its time and test counts)
 * when its `<file> done` marker ran and no top-level test between the previous marker and it
 * failed; `failed` when one did; neither when the batch ended (a crash, a timeout) before its marker.
 */
export function judgeBatch (files, out, err) {
  const seen = new Map()
  for (const m of err.matchAll(/^dmess-suite-done (\d+) (\S+)(?: (\d+) (\d+) (\d+) (\d+) (\d+))?$/gm)) {
    const counts = m[3] === undefined ? undefined : Object.fromEntries(COUNT_KEYS.map((k, i) => [k, Number(m[3 + i])]))
    seen.set(m[2], { ms: Number(m[1]), counts })
  }
  const passed = new Map()
  const failed = new Set()
  let clean = true
  let i = 0
  for (const m of out.matchAll(/^(not )?ok \d+ - (.*?)(?: # .*)?$/gm)) {
    if (i >= files.length) break
    if (m[2] === `${files[i]} done`) {
      if (clean && m[1] === undefined && seen.has(files[i])) passed.set(files[i], seen.get(files[i]))
      else failed.add(files[i])
      clean = true
      i++
    } else if (m[1] !== undefined) {
      clean = false
    }
  }
  if (!clean && i < files.length) failed.add(files[i])
  return { passed, failed }
}

/** One TAP line per file, a failing file's output indented under it. */
export function report (n, r) {
  let text = `${r.ok ? 'ok' : 'not ok'} ${n} - ${r.file} # time=${r.ms}ms\n`
  if (!r.ok) text += `  # ${r.file}: ${r.why}\n` + r.out.split('\n').map(l => `  ${l}`).join('\n') + '\n'
  return text
}

/**
 * The failed files again, each with its first failing assertions, for the end of the log: a CI
 * log is often read from its tail, where the coverage table would otherwise hide which file failed.
 */
export function failureRecap (results, { linesPerFile = 6 } = {}) {
  let text = ''
  for (const r of results.filter(r => !r.ok)) {
    text += `# failed: ${r.file} (${r.why})\n`
    const lines = r.out.split('\n')
    const shown = []
    for (let i = 0; i < lines.length && shown.length < linesPerFile; i++) {
      if (!/^\s*not ok /.test(lines[i])) continue
      shown.push(lines[i].trim())
      // tap's YAML block under the assertion: its message and where it failed
      for (let j = i + 1; j < lines.length && j < i + 12 && shown.length < linesPerFile; j++) {
        const m = /^\s*(error|message|at|found|wanted):\s*(.+)$/.exec(lines[j])
        if (m) shown.push(`  ${m[1]}: ${m[2].trim().slice(0, 200)}`)
        if (/^\s*(not )?ok /.test(lines[j])) break
      }
    }
    for (const l of shown) text += `#   ${l}\n`
  }
  return text
}

/** `files` in `count` batches of about equal size, in order. */
export function batches (files, count) {
  const n = Math.max(1, Math.min(count, files.length))
  const out = []
  for (let b = 0, at = 0; b < n; b++) {
    const size = Math.ceil((files.length - at) / (n - b))
    out.push(files.slice(at, at + size))
    at += size
  }
  return out.filter(b => b.length > 0)
}

/** Per-file wall times (ms) of an earlier run, for the order: scripts/test-durations.json. */
export function knownDurations () {
  try { return JSON.parse(readFileSync(DURATIONS, 'utf8')) } catch { return {} }
}

/**
 * Writes the files' times into scripts/test-durations.json (`DMESS_RECORD_DURATIONS=1 npm test`,
 * on an idle machine, when files were added or their cost moved), keeping other files that exist.
 */
export function recordDurations (results) {
  const all = { ...knownDurations() }
  for (const r of results) all[r.file] = r.ms
  const root = new URL('../', import.meta.url)
  const sorted = Object.fromEntries(Object.keys(all).filter(f => existsSync(new URL(f, root))).sort().map(f => [f, all[f]]))
  writeFileSync(DURATIONS, JSON.stringify(sorted, null, 1) + '\n')
}

/**
 * The processes to start, longest expected first: each `alone` file, and the `batched` files in
 * batches of about `perBatch`. A file with no known time counts as `unknownMs`.
 */
export function schedule (batched, alone, { perBatch = 12, durations = {}, unknownMs = 3_000 } = {}) {
  const expect = f => durations[f] ?? unknownMs
  const tasks = [
    ...alone.map(f => ({ files: [f], alone: true, ms: expect(f) })),
    ...batches(batched, Math.ceil(batched.length / perBatch)).map(files => ({ files, alone: false, ms: files.reduce((s, f) => s + expect(f), 0) }))
  ]
  // a stable sort: equal estimates keep file order
  return tasks.sort((a, b) => b.ms - a.ms)
}

const add = (a, b) => Object.fromEntries(COUNT_KEYS.map(k => [k, (a[k] ?? 0) + (b[k] ?? 0)]))

/**
 * Runs `batched` files in batches and `alone` files one to a process, `jobs` processes at a time,
 * printing each file's result as soon as it is known; resolves with the files' results and the
 * counts of their tests. With `coverageDir`, every process writes its
 * coverage there (scripts/coverage.mjs).
 */
export async function runSuite (batched, { alone = [], jobs = 2, perBatch = 12, timeoutMs = 600_000, env = process.env, cwd = process.cwd(), write = s => process.stdout.write(s), coverageDir, durations = knownDurations() } = {}) {
  write('TAP version 14\n')
  const interrupted = signal => {
    for (const pid of running) try { process.kill(-pid, 'SIGKILL') } catch { /* gone already */ }
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.on(signal, interrupted)
  const opts = { env, timeoutMs, cwd, coverageDir }
  const tasks = schedule(batched, alone, { perBatch, durations })
  const results = []
  const done = r => {
    results.push(r)
    write(report(results.length, r))
  }
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]
      if (task.alone) {
        done(await runFile(task.files[0], opts))
        continue
      }
      const r = await run([BATCH, String(next)], { ...opts, files: task.files, timeoutMs: timeoutMs * task.files.length })
      const batchOk = r.code === 0 && !r.timedOut
      const { passed, failed } = judgeBatch(task.files, r.out, r.err)
      // a failed batch in which every file passed failed outside them all: each runs alone
      const trusted = batchOk || passed.size < task.files.length
      for (const file of task.files) {
        const seen = passed.get(file)
        if (trusted && seen !== undefined && seen.counts !== undefined) {
          done({ file, ok: true, ms: seen.ms, why: '', out: '', counts: seen.counts })
        } else {
          // not reached, or the batch failed: alone, the file's result and output are its own
          const a = await runFile(file, opts)
          if (a.ok && failed.has(file)) {
            a.ok = false
            a.why = 'failed after other files in one process (scripts/suite-batch.mjs), passes alone: it depends on process state they leave'
            a.out = r.out + r.err
            a.counts = { ...a.counts, total: a.counts.total + 1, fail: a.counts.fail + 1 }
          }
          done(a)
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, tasks.length)) }, worker))
  for (const signal of signals) process.off(signal, interrupted)
  const passedFiles = results.filter(r => r.ok).length
  const failedFiles = results.length - passedFiles
  const counts = results.reduce((sum, r) => add(sum, r.counts), {})
  const extra = ['fail', 'skip', 'todo'].filter(k => counts[k] > 0).map(k => `, ${k}: ${counts[k]}`).join('')
  write(`1..${results.length}\n# ${passedFiles} of ${results.length} files passed\n# { total: ${counts.total}, pass: ${counts.pass}${extra} }\n`)
  return { ...counts, files: results.length, failedFiles, results }
}
