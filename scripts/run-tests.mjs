#!/usr/bin/env node
// Runs the whole tap suite, passing its output through, then prints one closing line
// `N passed, N failed` so a reader of a CI log sees the count at a glance.
// Extra arguments are handed to tap (e.g. `npm test -- test/crypto`).
// Tests get a private TMPDIR for this run. Every test home lives in it, so a daemon a test left
// running (tap killed the file at its timeout before its teardown ran) names it on its command
// line: such processes were started by this run, and are stopped and reported at the end.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// The native AEAD is rebuilt when its C source changed since `npm ci` built it (a no-op otherwise).
spawnSync(process.execPath, ['scripts/build-native.mjs'], { stdio: 'inherit' })
// CLI tests run the built binary: rebuild first so they never test a stale dist/.
// `npm run build`: tsc, then the daemon bundle (scripts/bundle.ts) the detached-daemon tests run.
const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' })
if (build.status !== 0) {
  console.log('\n0 passed, 1 failed (the build failed)')
  process.exit(1)
}

const runTmp = mkdtempSync(join(tmpdir(), 'dmess-run-'))
const args = ['tap', ...process.argv.slice(2)]
const child = spawn('npx', args, { stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: runTmp } })
let tail = ''
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  tail = (tail + chunk.toString()).slice(-4096)
})
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

child.on('close', async (code, signal) => {
  const leftovers = await stopLeftovers(runTmp)
  rmSync(runTmp, { recursive: true, force: true })
  // tap's summary line looks like `# { total: 12, pass: 11, fail: 1 }` (keys omitted when zero)
  const m = tail.match(/# \{ total: (\d+)([^}]*)\}/)
  const total = m ? Number(m[1]) : 0
  const field = (name) => {
    const f = m?.[2].match(new RegExp(`${name}: (\\d+)`))
    return f ? Number(f[1]) : 0
  }
  const passed = field('pass')
  const failed = m ? field('fail') : 1
  const skipped = field('skip') + field('todo')
  if (leftovers > 0) console.log(`# stopped ${leftovers} process(es) that tests left running`)
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''} (of ${total})`)
  process.exit(code ?? (signal ? 1 : 0))
})
