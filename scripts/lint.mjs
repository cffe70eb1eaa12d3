// `npm run lint`: the type check (tsc), eslint and the layer check (scripts/check-imports.ts) at
// once. Each is single-threaded and the first two take ~30 s of CPU apiece, so on a 2-core machine
// running them side by side halves the wait. Each one's output is printed whole, in this order,
// once it ends; the exit code is non-zero when any failed, and the failures are named last.
import { spawn } from 'node:child_process'

const CHECKS = [
  ['types (tsc -p tsconfig.check.json)', 'npx', ['tsc', '-p', 'tsconfig.check.json']],
  ['style (eslint .)', 'npx', ['eslint', '.']],
  ['layers (scripts/check-imports.ts)', process.execPath, ['--import', 'tsx', 'scripts/check-imports.ts']]
]

function run ([name, cmd, args]) {
  return new Promise(resolve => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', d => { out += d })
    child.stderr.setEncoding('utf8').on('data', d => { out += d })
    child.on('error', err => resolve({ name, code: 1, out: out + String(err) + '\n' }))
    child.on('close', (code, signal) => resolve({ name, code: code ?? (signal ? 1 : 0), out }))
  })
}

const results = await Promise.all(CHECKS.map(run))
for (const r of results) process.stdout.write(r.out)
const failed = results.filter(r => r.code !== 0).map(r => r.name)
if (failed.length > 0) {
  console.log(`lint failed: ${failed.join(', ')}`)
  process.exit(1)
}
