// Cross-check with an independent implementation: test/ratchet/python/ratchet_check.py, written
// from proto-spec/ratchet.md and Signal's Double Ratchet document with pyca/cryptography and the
// standard library, recomputes every KDF answer and replays the §8 transcript from the spec alone.
// Skips (saying why) without /usr/bin/python3 and its cryptography module, except under CI=true.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PYTHON = '/usr/bin/python3'
const SCRIPT = fileURLToPath(new URL('./python/ratchet_check.py', import.meta.url))
const SPEC = fileURLToPath(new URL('../../proto-spec/ratchet.md', import.meta.url))

function missing (): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import cryptography.hazmat.primitives.ciphers.aead, cryptography.hazmat.primitives.asymmetric.x25519'], { timeout: 30_000 })
  if (r.error !== undefined) return `${PYTHON} cannot run (${r.error.message}); apt-get install python3-cryptography`
  return r.status === 0 ? null : `${PYTHON} has no cryptography module (apt-get install python3-cryptography)`
}

function check (specPath: string): { status: number | null, out: string } {
  const r = spawnSync(PYTHON, [SCRIPT, specPath], { timeout: 120_000, encoding: 'utf8' })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

const why = missing()
if (why !== null) {
  if (process.env.CI === 'true') t.fail(`prerequisite missing under CI: ${why}`)
  else t.test(why, { skip: why }, async () => {})
} else {
  t.test('the Python implementation agrees with every vector of ratchet.md §8', async t => {
    const { status, out } = check(SPEC)
    t.equal(status, 0, out.split('\n').filter(l => l.startsWith('FAIL')).join('; '))
    t.equal(out.split('\n').filter(l => l.startsWith('ok ')).length, 28, '16 known answers and 12 transcript steps')
    t.match(out, /python check: 0 failures/)
  })

  t.test('and notices a changed byte (the cross-check can fail)', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'dmess-ratchet-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const spec = readFileSync(SPEC, 'utf8')
    for (const [name, mutate] of [
      ['m3', (s: string) => s.replace(/^m3: (.)/m, (_, c: string) => `m3: ${c === '0' ? '1' : '0'}`)],
      ['kdf_ck.mk', (s: string) => s.replace(/^kdf_ck\.mk: (.)/m, (_, c: string) => `kdf_ck.mk: ${c === '0' ? '1' : '0'}`)]
    ] as const) {
      const path = join(dir, `${name}.md`)
      writeFileSync(path, mutate(spec))
      const { status, out } = check(path)
      t.not(status, 0, `${name} changed: the check fails`)
      t.match(out, new RegExp(`FAIL ${name.replace('.', '\\.')}`))
    }
  })
}
