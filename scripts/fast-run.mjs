// `npm test -- --fast` without tap's runner. A tap test file is a plain node script whose tests
// are subtests of tap's root test, so several files run in one process: scripts/fast-batch.mjs
// imports them one after another under tsx (which compiles a file in milliseconds; tap's own
// TypeScript loader, a ts-node fork, costs ~2 s of CPU per file, which was half of the fast run,
// and a process per file another ~0.8 s). Batches run `jobs` at a time. When a batch fails, or a
// crash or timeout ends it early, the files that did not pass in it run again alone, each in its
// own process: their results and output are then their own; a file whose tests failed in the batch but pass alone
// (it depends on process state other files leave) still counts as failed. No coverage is collected here (the full run does).
// Prints what tap's runner prints at the top level (`ok N - file # time=…ms`, `not ok …` with the
// file's own output indented under it, then `# { total: N, pass: N, fail: N }`), so
// scripts/test-verdict.mjs reads it as it reads tap's.
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'

const LOADER = ['--import', new URL('./fast-tsx.mjs', import.meta.url).href]
const BATCH = new URL('./fast-batch.mjs', import.meta.url).pathname

/**
 * Runs `node <args>`; resolves with its exit code (null when killed), wall time, stdout and
 * stderr. Past `timeoutMs` the process group is killed, as tap does at its timeout.
 */
function run (args, { env, timeoutMs, cwd, files = [] }) {
  return new Promise(resolve => {
    const started = Date.now()
    const child = spawn(process.execPath, [...LOADER, ...args], {
      cwd,
      env: { ...env, TSX_CACHE_TMPDIR: tmpdir(), TAP_TIMEOUT: String(Math.ceil(timeoutMs / 1000)), DMESS_FAST_FILES: files.join('\n') },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', d => { if (out.length < 4_000_000) out += d })
    child.stderr.setEncoding('utf8').on('data', d => { if (err.length < 4_000_000) err += d })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try { process.kill(-child.pid, 'SIGKILL') } catch { /* gone already */ }
    }, timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, timedOut, ms: Date.now() - started, out, err })
    })
  })
}

/** One file alone: its result with all it printed. */
export async function runFile (file, opts) {
  const r = await run([file], opts)
  return { file, ok: r.code === 0 && !r.timedOut, ms: r.ms, why: r.timedOut ? `timed out after ${r.ms} ms` : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`, out: r.out + r.err }
}

/**
 * What a batch's TAP and stderr markers say of each file: `passed` (with its time) when its
 * `<file> done` marker ran and no top-level test between the previous marker and it failed;
 * `failed` when one did; neither when the batch ended (a crash, a timeout) before its marker.
 */
export function judgeBatch (files, out, err) {
  const times = new Map()
  for (const m of err.matchAll(/^dmess-fast-done (\d+) (.+)$/gm)) times.set(m[2], Number(m[1]))
  const passed = new Map()
  const failed = new Set()
  let clean = true
  let i = 0
  for (const m of out.matchAll(/^(not )?ok \d+ - (.*?)(?: # .*)?$/gm)) {
    if (i >= files.length) break
    if (m[2] === `${files[i]} done`) {
      if (clean && m[1] === undefined && times.has(files[i])) passed.set(files[i], times.get(files[i]))
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

/**
 * Runs `files` in batches of about `perBatch`, `jobs` batches at a time, printing each file's
 * result in file order as soon as it is known; resolves with the counts.
 */
export async function runFast (files, { jobs = 2, perBatch = 12, timeoutMs = 600_000, env = process.env, cwd = process.cwd(), write = s => process.stdout.write(s) } = {}) {
  write('TAP version 14\n')
  const opts = { env, timeoutMs, cwd }
  const groups = batches(files, Math.ceil(files.length / perBatch))
  const results = new Map()
  let printed = 0
  const flush = () => {
    while (printed < files.length && results.has(files[printed])) {
      write(report(printed + 1, results.get(files[printed])))
      printed++
    }
  }
  let next = 0
  const worker = async () => {
    while (next < groups.length) {
      const n = next++
      const group = groups[n]
      const r = await run([BATCH, String(n + 1)], { ...opts, files: group, timeoutMs: timeoutMs * group.length })
      const batchOk = r.code === 0 && !r.timedOut
      const { passed, failed } = judgeBatch(group, r.out, r.err)
      // a failed batch in which every file passed failed outside them all: each runs alone
      const trusted = batchOk || passed.size < group.length
      for (const file of group) {
        if (trusted && passed.has(file)) {
          results.set(file, { file, ok: true, ms: passed.get(file), why: '', out: '' })
        } else {
          // not reached, or the batch failed: alone, the file's result and output are its own
          const alone = await runFile(file, opts)
          if (alone.ok && failed.has(file)) {
            alone.ok = false
            alone.why = 'failed after other files in one process (scripts/fast-batch.mjs), passes alone: it depends on process state they leave'
            alone.out = r.out + r.err
          }
          results.set(file, alone)
        }
        flush()
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, groups.length)) }, worker))
  const pass = files.filter(f => results.get(f).ok).length
  const fail = files.length - pass
  write(`1..${files.length}\n# { total: ${files.length}, pass: ${pass}${fail ? `, fail: ${fail}` : ''} }\n`)
  return { total: files.length, pass, fail, results: files.map(f => results.get(f)) }
}
