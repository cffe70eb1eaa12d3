// Noise test vectors from cacophony (test/vectors/noise/SOURCE.md): every message of every
// vector we support must reproduce byte for byte, in both directions, plus the handshake hash.
import t from 'tap'
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseVectorFile, runVectors, checkVector, skipReason } from '../../src/crypto/noise/vector-runner.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const FILE = join(root, 'test', 'vectors', 'noise', 'cacophony.txt')
const vectors = parseVectorFile(readFileSync(FILE, 'utf8'))

function runScript (...files: string[]): Promise<{ code: number, stdout: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'noise-vectors.ts'), ...files],
      { cwd: root, timeout: 120_000 }, (err, stdout) => {
        resolve({ code: err === null ? 0 : (typeof err.code === 'number' ? err.code : -1), stdout })
      })
  })
}

t.test('every NN/XX/IK ChaChaPoly vector with BLAKE2b and SHA256 passes', async t => {
  const report = runVectors(vectors)
  for (const pattern of ['NN', 'XX', 'IK']) {
    for (const hash of ['BLAKE2b', 'SHA256']) {
      const name = `Noise_${pattern}_25519_ChaChaPoly_${hash}`
      const inFile = vectors.filter(v => v.protocol_name === name).length
      const counts = report.byProtocol.get(name)
      t.ok(inFile > 0, `${name} has vectors`)
      t.same(counts, { passed: inFile, failed: 0 }, `${name}: all ${inFile} pass`)
    }
  }
  const failures = report.outcomes.filter(o => o.status === 'failed')
  t.same(failures, [], 'no supported vector fails')
  // the other patterns the engine supports come along: one-way, fundamental, deferred, SHA512
  t.equal(report.passed, 114, '38 patterns x 3 hashes')
  t.equal(report.passed + report.skipped, vectors.length)
})

t.test('unsupported protocols are skipped with a reason, not failed', async t => {
  const base = vectors.find(v => v.protocol_name === 'Noise_XX_25519_ChaChaPoly_BLAKE2b')
  if (base === undefined) throw new Error('fixture missing')
  for (const name of ['Noise_XX_448_ChaChaPoly_BLAKE2b', 'Noise_XX_25519_AESGCM_SHA256',
    'Noise_XX_25519_ChaChaPoly_BLAKE2s', 'Noise_XXpsk3_25519_ChaChaPoly_SHA256', 'Noise_XXfallback_25519_ChaChaPoly_SHA256']) {
    t.match(skipReason({ ...base, protocol_name: name }), /not supported/, name)
  }
  t.match(skipReason({ ...base, init_psks: ['00'] }), /psk/)
  t.equal(skipReason(base), null)
})

t.test('a vector with one wrong ciphertext byte fails with a reason', async t => {
  const v = structuredClone(vectors.find(v => v.protocol_name === 'Noise_IK_25519_ChaChaPoly_SHA256'))
  if (v === undefined) throw new Error('fixture missing')
  const m = v.messages[3]
  if (m === undefined) throw new Error('fixture too short')
  m.ciphertext = (m.ciphertext.startsWith('0') ? '1' : '0') + m.ciphertext.slice(1)
  t.match(checkVector(v), /message 3 \(transport\): ciphertext/)
  v.handshake_hash = '00'
  v.messages = v.messages.slice(0, 2)
  t.match(checkVector(v), /handshake hash/)
})

t.test('parseVectorFile refuses what is not a vector file', async t => {
  t.throws(() => parseVectorFile('not json'), { code: 'BAD_ARGUMENT' })
  t.throws(() => parseVectorFile('{"vectors": 3}'), { code: 'BAD_ARGUMENT' })
  t.throws(() => parseVectorFile('{"vectors": [{"protocol_name": "x"}]}'), { code: 'BAD_ARGUMENT' })
})

t.test('scripts/noise-vectors.ts prints the counts and exits 0', async t => {
  const { code, stdout } = await runScript(FILE)
  t.equal(code, 0)
  t.match(stdout, /^114 passed, 0 failed, 830 skipped$/m)
})

t.test('scripts/noise-vectors.ts exits non-zero when a vector fails', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'noise-vectors-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const picked = structuredClone(vectors.filter(v => v.protocol_name.startsWith('Noise_NN_25519_ChaChaPoly_')))
  const bad = picked[0]?.messages[1]
  if (bad === undefined) throw new Error('fixture missing')
  bad.ciphertext = bad.ciphertext.slice(0, -2) + (bad.ciphertext.endsWith('00') ? '01' : '00')
  const file = join(dir, 'bad.json')
  writeFileSync(file, JSON.stringify({ vectors: picked }))
  const { code, stdout } = await runScript(file)
  t.equal(code, 1)
  t.match(stdout, /^FAIL #0 Noise_NN_25519_ChaChaPoly_BLAKE2b: message 1/m)
  t.match(stdout, /^2 passed, 1 failed, 1 skipped$/m, "BLAKE2s is skipped")
  const usage = await runScript()
  t.equal(usage.code, 2)
})
