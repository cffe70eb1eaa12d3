// Constant time of native/ml-kem768.c (crypto-policy.md §7), checked with valgrind's memcheck:
// the fixture test/crypto/fixtures/ml-kem-constant-time.c marks every secret input (d and z, m,
// dk_PKE and z inside dk) as undefined memory, so memcheck reports each conditional jump and each
// memory address computed from a secret. Built here with the C compiler at -O3, as node-gyp builds
// the addon. (Memcheck does not see a division's operand-dependent time: that Compress divides by
// multiplying is checked by reading native/ml-kem768.c, and by its output in ml-kem-native.test.ts.)
// Needs cc, valgrind and its headers (.ci/run installs them): skipped elsewhere, a failure in CI.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const hasValgrind = spawnSync('valgrind', ['--version']).status === 0
const hasCc = spawnSync('cc', ['--version']).status === 0
const missing = !hasCc ? 'no C compiler (cc)' : !hasValgrind ? 'valgrind is not installed' : existsSync('/usr/include/valgrind/memcheck.h') ? null : 'valgrind/memcheck.h is not installed'

if (missing !== null) {
  if (process.env.CI === 'true') t.fail(`CI must run the constant-time check: ${missing}`)
  else t.comment(`skipping the constant-time check: ${missing}`)
} else {
  t.test('memcheck sees no branch or memory index on a secret in keygen, encapsulation or decapsulation', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'dmess-mlkem-ct-'))
    t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
    const exe = join(dir, 'ml-kem-constant-time')
    const build = spawnSync('cc', ['-O3', '-Wall', '-Wextra', '-Werror', '-DDMESS_CT_CHECK', `-I${join(root, 'native')}`, '-o', exe,
      join(root, 'test', 'crypto', 'fixtures', 'ml-kem-constant-time.c'), join(root, 'native', 'ml-kem768.c'), join(root, 'native', 'fips202.c')],
    { encoding: 'utf8', timeout: 120_000 })
    t.equal(build.status, 0, `the fixture builds${build.status === 0 ? '' : `: ${build.stderr.slice(0, 2000)}`}`)
    if (build.status !== 0) return
    const r = spawnSync('valgrind', ['--tool=memcheck', '--error-exitcode=9', exe], { encoding: 'utf8', timeout: 300_000 })
    t.equal(r.status, 0, 'valgrind exits 0 (9: a secret reached a branch or an address)')
    if (r.status !== 0) t.comment(`valgrind's report ends: ${r.stderr.slice(-3000)}`)
    t.same(JSON.parse(r.stdout.trim()), { agreed: 8, rejected: 8 }, 'every path ran: valid and modified ciphertexts')
    t.match(r.stderr, /ERROR SUMMARY: 0 errors from 0 contexts/)
  })
}
