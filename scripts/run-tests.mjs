#!/usr/bin/env node
// Runs the whole tap suite, passing its output through, then prints one closing line
// `N passed, N failed` so a reader of a CI log sees the count at a glance.
// Extra arguments are handed to tap (e.g. `npm test -- test/crypto`).
import { spawn, spawnSync } from 'node:child_process'

// CLI tests run the built binary: rebuild first so they never test a stale dist/.
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })
if (build.status !== 0) {
  console.log('\n0 passed, 1 failed (the TypeScript build failed)')
  process.exit(1)
}

const args = ['tap', ...process.argv.slice(2)]
const child = spawn('npx', args, { stdio: ['inherit', 'pipe', 'inherit'], env: process.env })
let tail = ''
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  tail = (tail + chunk.toString()).slice(-4096)
})
child.on('close', (code, signal) => {
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
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''} (of ${total})`)
  process.exit(code ?? (signal ? 1 : 0))
})
