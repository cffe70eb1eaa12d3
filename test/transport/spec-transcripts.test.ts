// The XX and IK transcripts of proto-spec/session.md §11, read from the spec itself: the code dmess
// runs must reproduce every byte, and so must a second computation written from the Noise
// specification alone (test/helpers/noise-reference.ts).
import t from 'tap'
import { CipherState, parseSuite } from '../../src/crypto/noise/index.js'
import { encodeProof, verifyProof } from '../../src/transport/proof.js'
import { specVectors, specDumps, fromHex, toHex } from '../helpers/spec-vectors.js'
import { transcript, identities, TRANSCRIPT_INPUTS } from '../helpers/handshake-transcript.js'
import { referenceTranscript } from '../helpers/noise-reference.js'

const vectors = specVectors('session.md')
const dumps = specDumps('session.md')
const get = (name: string): string => {
  const v = vectors.get(name)
  if (v === undefined) throw new Error(`session.md §11 has no ${name}`)
  return v
}

for (const pattern of ['xx', 'ik'] as const) {
  t.test(`${pattern}: the code dmess runs reproduces every value`, async t => {
    const ours = transcript(pattern)
    t.ok(ours.size >= 10)
    for (const [name, value] of ours) t.equal(value, get(name), name)
  })

  t.test(`${pattern}: the reference computation reproduces every value`, async t => {
    const ref = referenceTranscript(pattern)
    const inSpec = [...vectors.keys()].filter(k => k.startsWith(`${pattern}.`))
    t.same([...ref.keys()].sort(), inSpec.sort(), 'it computes exactly the values the spec lists')
    for (const [name, value] of ref) t.equal(value, get(name), name)
  })

  t.test(`${pattern}: the published transport keys open the first packets`, async t => {
    // The code keeps its keys inside CipherStates; this checks the spec's keys by what they do.
    const suite = parseSuite('25519_ChaChaPoly_BLAKE2b', 'session.md §11')
    const hello = TRANSCRIPT_INPUTS.hello
    const want = { initiatorToResponder: pattern === 'xx' ? hello : new Uint8Array(0), responderToInitiator: pattern === 'xx' ? new Uint8Array(0) : hello }
    for (const dir of ['initiatorToResponder', 'responderToInitiator'] as const) {
      const packet = fromHex(get(`${pattern}.data.${dir}`))
      const cs = new CipherState(suite.cipher, fromHex(get(`${pattern}.key.${dir}`)))
      t.same(cs.tryDecryptWithAd(packet.subarray(0, 14), packet.subarray(14)), want[dir], dir)
    }
  })
}

t.test('the proofs are what noise.md §4 and §2.3 build, and they verify', async t => {
  const { alice, bob } = identities()
  t.equal(toHex(encodeProof(alice, TRANSCRIPT_INPUTS.sessionId)), get('proof.initiator'))
  t.equal(toHex(encodeProof(bob)), get('proof.responder'))
  const peer = verifyProof(fromHex(get('proof.initiator')), alice.dhPublic)
  t.equal(peer?.fingerprint, get('xx.responderLearns'))
  t.equal(toHex(peer?.sessionId ?? new Uint8Array(0)), get('xx.sessionId'))
  t.equal(verifyProof(fromHex(get('proof.responder')), bob.dhPublic)?.fingerprint, get('xx.initiatorLearns'))
  t.equal(verifyProof(fromHex(get('proof.responder')), alice.dhPublic), null, 'not under another static key')
})

t.test('the dumps spell their vectors', async t => {
  t.same([...dumps.keys()].sort(), ['ik.msg1', 'ik.msg2', 'xx.data.initiatorToResponder', 'xx.data.responderToInitiator', 'xx.msg2', 'xx.msg3'])
  for (const [name, hex] of dumps) t.equal(hex, get(name), name)
})

t.test('XX message 1 is the initiation of wire.md §8.1', async t => {
  const wire = specVectors('wire.md')
  t.equal(get('xx.initiation'), wire.get('handshake-initiation'))
})
