// Double Ratchet core throughput, in process (proto-spec/ratchet.md): 1 KiB messages encrypted and
// decrypted along one chain, and with a DH + ML-KEM-768 ratchet step on every message (the two
// parties take turns); ML-KEM-768 keygen / encapsulation / decapsulation per second (src/crypto/ml-kem.ts:
// the C in the native addon, or TypeScript over node:crypto's SHA-3 without it or with
// DMESS_NATIVE=off; each line names it as `mlkem`). One JSON line per metric; every loop is bounded in count and time.
//   npx tsx scripts/bench/ratchet.ts        (or: npm run bench -- ratchet)
import { pathToFileURL } from 'node:url'
import { mlKem768, mlKemImplementation } from '../../src/crypto/ml-kem.js'
import { randomBytes, x25519 } from '../../src/crypto/primitives.js'
import { rate } from './noise.js'
import { initAlice, initBob, ratchetEncrypt, ratchetDecrypt, encodeState, ratchetConstants as C, type RatchetState } from '../../src/ratchet/index.js'

const BODY = new Uint8Array(1024)
const MLKEM = mlKemImplementation().name

function session (): { a: RatchetState, b: RatchetState } {
  const spk = x25519.generateKeyPair()
  const sk = randomBytes(32)
  const ad = randomBytes(64)
  const a = initAlice({ sk, ad, bobRatchetPublic: spk.publicKey }, randomBytes)
  return { a, b: initBob({ sk, ad, ratchetKeyPair: spk }) }
}

function decryptOrThrow (s: RatchetState, m: Uint8Array): RatchetState {
  const r = ratchetDecrypt(s, m, { now: 0, random: randomBytes })
  if (!r.ok) throw new Error(`bench: decrypt failed (${r.reason})`)
  return r.state
}

const round = (x: number): number => Math.round(x * 10) / 10
const line = (metric: string, value: number, params: Record<string, unknown>): void => { console.log(JSON.stringify({ metric, value: round(value), params })) }

export async function run (): Promise<void> {
  // one chain: Alice sends, Bob reads, in order
  let { a, b } = session()
  const messages: Uint8Array[] = []
  const enc = rate(() => { const r = ratchetEncrypt(a, BODY, randomBytes); a = r.state; messages.push(r.message) }, 20_000)
  let i = 0
  const dec = rate(() => { b = decryptOrThrow(b, messages[i++]!) }, messages.length - 1)
  line('ratchet_chain_encrypt_per_s', enc.perSecond, { bytes: BODY.length, messages: enc.count })
  line('ratchet_chain_decrypt_per_s', dec.perSecond, { bytes: BODY.length, messages: dec.count })
  // a DH + KEM step on every message: each message is a reply to the last one
  const s = session()
  let turn = 0
  const st = [s.a, s.b]
  const step = rate(() => {
    const from = turn % 2
    const r = ratchetEncrypt(st[from]!, BODY, randomBytes)
    st[from] = r.state
    st[1 - from] = decryptOrThrow(st[1 - from]!, r.message)
    turn++
  }, 5000)
  line('ratchet_step_every_message_per_s', step.perSecond, { bytes: BODY.length, messages: step.count, what: 'encrypt + decrypt with a DH + ML-KEM-768 step per message', mlkem: MLKEM })
  line('ratchet_message_overhead_bytes', C.ENC_HEADER_BYTES + C.AEAD_TAG_BYTES, { header: C.ENC_HEADER_BYTES, tag: C.AEAD_TAG_BYTES })
  line('ratchet_state_bytes', encodeState(st[0]!).length, { skipped: st[0]!.skipped.length })
  // ML-KEM-768 alone
  let kp = mlKem768.keygen(randomBytes(64))
  const keygen = rate(() => { kp = mlKem768.keygen(randomBytes(64)) }, 5000)
  let ct = mlKem768.encapsulate(kp.publicKey, randomBytes(32)).cipherText
  const encaps = rate(() => { ct = mlKem768.encapsulate(kp.publicKey, randomBytes(32)).cipherText }, 5000)
  const decaps = rate(() => { mlKem768.decapsulate(ct, kp.secretKey) }, 5000)
  line('mlkem768_keygen_per_s', keygen.perSecond, { count: keygen.count, mlkem: MLKEM })
  line('mlkem768_encaps_per_s', encaps.perSecond, { count: encaps.count, mlkem: MLKEM })
  line('mlkem768_decaps_per_s', decaps.perSecond, { count: decaps.count, mlkem: MLKEM })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
