// Runs several tap test files in this one process (scripts/fast-run.mjs starts it under tsx):
// each file's top-level tests become subtests of tap's root test, which runs them one after
// another in import order. After each file's tests a marker subtest `<file> done` is queued, so
// that the runner can tell which file a failure belongs to and how long each file took.
//   DMESS_FAST_FILES=<file>\n<file>... node --import ./scripts/fast-tsx.mjs scripts/fast-batch.mjs <batch number>
// The files come in the environment, not as arguments: tap names a test's fixture directory
// (t.testdir()) after the process's arguments, and a dozen paths make too long a name. The batch
// number keeps batches that run at once apart (same test names, different directories).
import t from 'tap'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { performance } from 'node:perf_hooks'

let last = performance.now()
for (const file of (process.env.DMESS_FAST_FILES ?? '').split('\n').filter(Boolean)) {
  await import(pathToFileURL(resolve(file)).href)
  t.test(`${file} done`, async t => {
    const now = performance.now()
    // on stderr, apart from the TAP: `dmess-fast-done <ms> <file>`
    process.stderr.write(`dmess-fast-done ${Math.round(now - last)} ${file}\n`)
    last = now
    t.pass('its tests ended')
  })
}
