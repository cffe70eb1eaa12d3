// native/chacha20poly1305.c and native/ml-kem768.c under valgrind's memcheck: no invalid read or
// write, no use of uninitialised memory, no leak, on every path the workout fixture takes
// (crypto-policy.md §3.1 and §7).
// Needs valgrind (.ci/run installs it); skipped with the reason elsewhere, a failure in CI.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { nativeAddonPath } from '../../src/crypto/native-aead.js'

const here = dirname(fileURLToPath(import.meta.url))
const addon = nativeAddonPath()
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0
const missing = addon === undefined ? 'the native addon is not built' : hasValgrind ? null : 'valgrind is not installed'

if (missing !== null) {
  if (process.env.CI === 'true') t.fail(`CI must run the memcheck: ${missing}`)
  else t.comment(`skipping the memcheck: ${missing}`)
} else {
  t.test('memcheck finds no error and no leak in the addon', async t => {
    const r = spawnSync('valgrind', ['--tool=memcheck', '--leak-check=full', '--errors-for-leak-kinds=definite',
      '--error-exitcode=9', process.execPath, '--jitless', join(here, 'fixtures', 'native-aead-workout.mjs'), addon!],
    { encoding: 'utf8', timeout: 300_000 })
    t.equal(r.status, 0, 'valgrind exits 0 (9: it found errors)')
    if (r.status !== 0) t.comment(`valgrind's report ends: ${r.stderr.slice(-3000)}`)
    t.same(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}'), { opened: 400, refused: 200, threw: 1260, macs: 200, kemAgreed: 20, kemRejected: 20, kemRefused: 40 }, 'every path ran')
    t.match(r.stderr, /ERROR SUMMARY: 0 errors from 0 contexts/)
    t.match(r.stderr, /definitely lost: 0 bytes in 0 blocks/)
  })
}
