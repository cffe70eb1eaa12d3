// The fixed transcript of proto-spec/ratchet.md §8: fixed inputs, the HMAC-DRBG of §8.1 for every
// random draw, a schedule with an out-of-order delivery and four DH + ML-KEM steps. Run it to print
// the vector block for the spec:  node --import tsx test/ratchet/transcript.ts
import { pathToFileURL } from 'node:url'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { x25519 } from '../../src/crypto/primitives.js'
import { initAlice, initBob, ratchetEncrypt, ratchetDecrypt, type RatchetState } from '../../src/ratchet/index.js'
import { kdfInit, kdfRoot, kdfChain, messageKeys, encryptHeader, encryptBody } from '../../src/ratchet/kdf.js'
import { drbg, toHex, utf8 } from './helpers.js'

const fill = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b)

export const INPUTS = {
  sk: Uint8Array.from({ length: 32 }, (_, i) => i),
  ad: utf8('dmess-ratchet-test-ad: alice|bob'),
  aliceSeed: utf8('alice'),
  bobSeed: utf8('bob')
}

/** Known answers of each KDF on fixed inputs (ratchet.md §8.2). */
export function kdfVectors (): Array<[string, Uint8Array]> {
  const init = kdfInit(fill(32, 0x06))
  const root = kdfRoot(fill(32, 0x01), fill(32, 0x02))
  const hybrid = kdfRoot(fill(32, 0x01), fill(32, 0x02), fill(32, 0x03))
  const chain = kdfChain(fill(32, 0x04))
  const mk = messageKeys(fill(32, 0x05))
  return [
    ['kdf_init.rk', init.rk], ['kdf_init.hka', init.hka], ['kdf_init.nhkb', init.nhkb],
    ['kdf_rk.rk', root.rk], ['kdf_rk.ck', root.ck], ['kdf_rk.nhk', root.nhk],
    ['kdf_rk_kem.rk', hybrid.rk], ['kdf_rk_kem.ck', hybrid.ck], ['kdf_rk_kem.nhk', hybrid.nhk],
    ['kdf_ck.mk', chain.mk], ['kdf_ck.ck', chain.ck],
    ['message_keys.key', mk.key], ['message_keys.nonce', mk.nonce],
    ['hencrypt', encryptHeader(fill(32, 0x07), fill(24, 0x08), utf8('header'), utf8('ad'))],
    ['encrypt', encryptBody(fill(32, 0x05), utf8('body'), utf8('aad'))]
  ]
}

interface Step { id: string, from: 'alice' | 'bob', text: string, associated: string }
/** Sends in this order; deliveries listed separately (m1 overtakes m0). */
const SENDS: Step[] = [
  { id: 'm0', from: 'alice', text: 'Hello Bob', associated: '' },
  { id: 'm1', from: 'alice', text: 'second, arrives first', associated: '' },
  { id: 'm2', from: 'bob', text: 'Hi Alice', associated: '' },
  { id: 'm3', from: 'alice', text: 'third', associated: '' },
  { id: 'm4', from: 'alice', text: 'fourth', associated: '' },
  { id: 'm5', from: 'bob', text: 'bye', associated: 'envelope header' }
]
const ORDER: Array<['send' | 'recv', string]> = [
  ['send', 'm0'], ['send', 'm1'], ['recv', 'm1'], ['recv', 'm0'], ['send', 'm2'], ['recv', 'm2'],
  ['send', 'm3'], ['send', 'm4'], ['recv', 'm3'], ['recv', 'm4'], ['send', 'm5'], ['recv', 'm5']
]

export interface Transcript { values: Array<[string, Uint8Array]>, messages: Map<string, Uint8Array>, plaintexts: Map<string, string> }

/** Runs the schedule; throws if any delivery fails. The KEM shared secrets are listed in order of use. */
export function transcript (): Transcript {
  const ra = drbg(INPUTS.aliceSeed)
  const rb = drbg(INPUTS.bobSeed)
  const spkSecret = rb(32)
  const spkPublic = x25519.publicFromSecret(spkSecret)
  const st: Record<'alice' | 'bob', RatchetState> = {
    alice: initAlice({ sk: INPUTS.sk, ad: INPUTS.ad, bobRatchetPublic: spkPublic }, ra),
    bob: initBob({ sk: INPUTS.sk, ad: INPUTS.ad, ratchetKeyPair: { secretKey: spkSecret, publicKey: spkPublic } })
  }
  const rnd = { alice: ra, bob: rb }
  const values: Array<[string, Uint8Array]> = [['bob.spk_public', spkPublic]]
  const messages = new Map<string, Uint8Array>()
  const plaintexts = new Map<string, string>()
  let kem = 0
  for (const [what, id] of ORDER) {
    const step = SENDS.find(s => s.id === id)!
    const to = step.from === 'alice' ? 'bob' : 'alice'
    if (what === 'send') {
      const r = ratchetEncrypt(st[step.from], utf8(step.text), rnd[step.from], utf8(step.associated))
      st[step.from] = r.state
      messages.set(id, r.message)
      plaintexts.set(id, step.text)
      values.push([`${id}`, r.message])
    } else {
      const r = ratchetDecrypt(st[to], messages.get(id)!, { now: 0, random: rnd[to], associated: utf8(step.associated) })
      if (!r.ok || Buffer.from(r.plaintext).toString() !== step.text) throw new Error(`transcript: ${id} did not decrypt`)
      // a DH step encapsulates to the sender's encapsulation key: list that shared secret
      if (r.state.kemCt !== null && r.state.kemCt !== st[to].kemCt) {
        values.push([`kem_ss.${++kem}`, ml_kem768.decapsulate(r.state.kemCt, st[step.from].kemDk!)])
      }
      st[to] = r.state
    }
  }
  return { values, messages, plaintexts }
}

/** The vector block as it stands in ratchet.md §8: `name: hex`, continued on indented lines. */
export function vectorBlock (): string {
  const lines: string[] = []
  const put = (name: string, b: Uint8Array): void => {
    const h = toHex(b)
    lines.push(`${name}: ${h.slice(0, 96)}`)
    for (let i = 96; i < h.length; i += 96) lines.push(`    ${h.slice(i, i + 96)}`)
  }
  for (const [k, v] of kdfVectors()) put(k, v)
  for (const [k, v] of transcript().values) put(k, v)
  return lines.join('\n')
}

/** name → bytes, parsed from the spec text's vector block (the inverse of vectorBlock). */
export function parseVectors (spec: string): Map<string, string> {
  const start = spec.indexOf('```ratchet-vectors\n')
  const end = spec.indexOf('```', start + 10)
  const out = new Map<string, string>()
  let key = ''
  for (const line of spec.slice(start + 19, end).split('\n')) {
    const m = /^([a-z0-9_.]+): ([0-9a-f]*)$/.exec(line)
    if (m !== null) { key = m[1]!; out.set(key, m[2]!) } else if (/^ {4}[0-9a-f]+$/.test(line)) out.set(key, out.get(key)! + line.trim())
  }
  return out
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) console.log(vectorBlock())
