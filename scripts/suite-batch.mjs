// Runs several tap test files in this one process (scripts/suite-run.mjs starts it): each file's
// top-level tests become subtests of tap's root test, which runs them one after another in import
// order. After each file's tests a marker subtest `<file> done` is queued, so that the runner can
// tell which file a failure belongs to, how long each file took and how many tests it ran.
//   DMESS_SUITE_FILES=<file>\n<file>... node --import ./scripts/ts-loader.mjs scripts/suite-batch.mjs <batch number>
// The files come in the environment, not as arguments: tap names a test's fixture directory
// (t.testdir()) after the process's arguments, and a dozen paths make too long a name. The batch
// number keeps batches that run at once apart (same test names, different directories).
import t from 'tap'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { performance } from 'node:perf_hooks'

const KEYS = ['total', 'pass', 'fail', 'skip', 'todo']
let last = performance.now()
// the root's assertion counts (all subtests so far) when the previous file's marker ran
let before = Object.fromEntries(KEYS.map(k => [k, 0]))
for (const file of (process.env.DMESS_SUITE_FILES ?? '').split('\n').filter(Boolean)) {
  await import(pathToFileURL(resolve(file)).href)
  t.test(`${file} done`, async marker => {
    const now = performance.now()
    const totals = t.assertTotals
    const own = KEYS.map(k => (totals[k] ?? 0) - before[k])
    // the marker's own assertion below is counted in the next file's difference: take it off there
    before = Object.fromEntries(KEYS.map(k => [k, (totals[k] ?? 0) + (k === 'total' || k === 'pass' ? 1 : 0)]))
    // on stderr, apart from the TAP: `dmess-suite-done <ms> <file> <total> <pass> <fail> <skip> <todo>`
    process.stderr.write(`dmess-suite-done ${Math.round(now - last)} ${file} ${own.join(' ')}\n`)
    last = now
    marker.pass('its tests ended')
  })
}
