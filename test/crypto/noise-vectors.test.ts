// Noise test vectors from cacophony and from noise-c, each in its own published format
// (test/vectors/noise/SOURCE.md): every message of every vector we support must reproduce byte
// for byte, in both directions, plus the handshake hash.
import t from 'tap'
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseVectorFile, runVectors, checkVector, skipReason } from '../../scripts/noise-vector-runner.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const FILE = join(root, 'test', 'vectors', 'noise', 'cacophony.txt')
const NOISE_C_FILE = join(root, 'test', 'vectors', 'noise', 'noise-c-basic.txt')
const vectors = parseVectorFile(readFileSync(FILE, 'utf8'))
const noiseC = parseVectorFile(readFileSync(NOISE_C_FILE, 'utf8'))

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

t.test('noise-c-basic.txt (noise-c format): every supported vector passes', async t => {
  t.ok(noiseC.every(v => v.format === 'noise-c'), 'read as the noise-c format')
  const report = runVectors(noiseC)
  t.same(report.outcomes.filter(o => o.status === 'failed'), [], 'no supported vector fails')
  // 15 patterns (one-way, interactive) x BLAKE2b, SHA256, SHA512 over 25519 and ChaChaPoly
  t.equal(report.passed, 45)
  for (const pattern of ['NN', 'XX', 'IK']) {
    for (const hash of ['BLAKE2b', 'SHA256', 'SHA512']) {
      t.same(report.byProtocol.get(`Noise_${pattern}_25519_ChaChaPoly_${hash}`), { passed: 1, failed: 0 }, `${pattern} ${hash}`)
    }
  }
  const skipped = report.outcomes.filter(o => o.status === 'skipped')
  t.equal(skipped.length, noiseC.length - 45)
  t.ok(skipped.filter(o => o.label.startsWith('NoisePSK_')).every(o => /NoisePSK_/.test(o.reason ?? '')),
    'the pre-revision-32 PSK vectors say why they are skipped')
  t.ok(skipped.some(o => /448/.test(o.reason ?? '')) && skipped.some(o => /AESGCM/.test(o.reason ?? '')))
})

t.test('the noise-c format: fields spelled out, hash prefix, fail and fallback', async t => {
  const text = readFileSync(NOISE_C_FILE, 'utf8')
  const raw = (JSON.parse(text) as { vectors: Record<string, unknown>[] }).vectors
  const nn = raw.find(v => v.name === 'Noise_NN_25519_ChaChaPoly_SHA256')
  if (nn === undefined) throw new Error('fixture missing')
  const [v] = parseVectorFile(JSON.stringify({ vectors: [nn] }))
  if (v === undefined) throw new Error('unreachable')
  t.equal(v.protocol_name, 'Noise_NN_25519_ChaChaPoly_SHA256', 'the protocol name is built from pattern, dh, cipher, hash')
  t.equal(checkVector(v), null)
  t.equal(checkVector({ ...v, handshake_hash: v.handshake_hash?.slice(0, 32) }), null, 'a shorter hash is compared as a prefix')
  t.match(checkVector({ ...v, handshake_hash: '00' + (v.handshake_hash ?? '').slice(2) }), /handshake hash/)
  // `fail`: the receiver must refuse the last message. An initiator with another prologue still
  // writes message 0 (e and a cleartext payload) byte for byte, but cannot read the responder's
  // message 1, whose payload is encrypted under a key that hashed the responder's prologue.
  const broken = { ...v, init_prologue: '00', messages: v.messages.slice(0, 2), fail: true }
  t.equal(checkVector(broken), null, 'refused, as the vector says')
  t.throws(() => checkVector({ ...broken, fail: false }), { code: 'NOISE_DECRYPT' })
  t.match(checkVector({ ...v, messages: v.messages.slice(0, 2), fail: true }), /accepted it/, 'fail on a message that reads is a failure')
  const [fallback] = parseVectorFile(JSON.stringify({ vectors: [{ ...nn, fallback: true }] }))
  const [hybrid] = parseVectorFile(JSON.stringify({ vectors: [{ ...nn, hybrid: 'NewHope' }] }))
  t.match(skipReason(fallback!), /fallback/)
  t.match(skipReason(hybrid!), /hybrid/)
  t.equal(hybrid!.protocol_name, 'Noise_NN_25519+NewHope_ChaChaPoly_SHA256')
  t.throws(() => parseVectorFile('{"vectors": [{"pattern": "NN", "messages": []}]}'), { code: 'BAD_ARGUMENT' })
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
  const both = await runScript(FILE, NOISE_C_FILE)
  t.equal(both.code, 0)
  t.match(both.stdout, /^159 passed, 0 failed, 1265 skipped$/m, 'both formats in one run')
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
