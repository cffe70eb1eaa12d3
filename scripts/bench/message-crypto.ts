// CPU time per call of the work each message costs a daemon besides I/O (docs/performance.md §11):
// the Double Ratchet's encrypt and decrypt (proto-spec/ratchet.md), its KDF_CK and message-key
// HKDF, sealing a record at rest (proto-spec/storage.md §Encryption) and a key tag. In process,
// from process.cpuUsage over a fixed count of calls after a warm-up, so a loaded machine slows
// it less than wall time would. One JSON line per metric.
//   npx tsx scripts/bench/message-crypto.ts    (or: npm run bench -- message-crypto)
import { pathToFileURL } from 'node:url'
import { chachaPolyImplementation, randomBytes, x25519 } from '../../src/crypto/primitives.js'
import { initAlice, initBob, ratchetEncrypt, ratchetDecrypt, type RatchetState } from '../../src/ratchet/index.js'
import { kdfChain, messageKeys } from '../../src/ratchet/kdf.js'
import { RecordCipher } from '../../src/store/crypt.js'

const WARM_UP = 2000

function cpuUsPerCall (n: number, f: (i: number) => void): number {
  for (let i = 0; i < WARM_UP; i++) f(i)
  const t = process.cpuUsage()
  for (let i = 0; i < n; i++) f(i)
  const d = process.cpuUsage(t)
  return (d.user + d.system) / n
}

function emit (metric: string, value: number, params: Record<string, unknown>): void {
  console.log(JSON.stringify({ metric, value: Math.round(value * 100) / 100, params: { ...params, aead: chachaPolyImplementation().name } }))
}

export async function run (): Promise<void> {
  const body = new Uint8Array(100) // a short text message
  const spk = x25519.generateKeyPair()
  const sk = randomBytes(32)
  const ad = randomBytes(64)
  let a: RatchetState = initAlice({ sk, ad, bobRatchetPublic: spk.publicKey }, randomBytes)
  let b: RatchetState = initBob({ sk, ad, ratchetKeyPair: spk })
  const N = 20_000
  const messages: Uint8Array[] = []
  emit('msg_crypto_ratchet_encrypt_cpu_us', cpuUsPerCall(N, () => {
    const r = ratchetEncrypt(a, body, randomBytes)
    a = r.state
    messages.push(r.message)
  }), { calls: N, bodyBytes: body.length })
  let next = 0
  emit('msg_crypto_ratchet_decrypt_cpu_us', cpuUsPerCall(N, () => {
    const r = ratchetDecrypt(b, messages[next++]!, { now: 0, random: randomBytes })
    if (!r.ok) throw new Error(`bench: decrypt failed (${r.reason})`)
    b = r.state
  }), { calls: N, inOrder: true })
  const ck = randomBytes(32)
  emit('msg_crypto_kdf_chain_cpu_us', cpuUsPerCall(50_000, () => { kdfChain(ck) }), { calls: 50_000 })
  emit('msg_crypto_message_keys_cpu_us', cpuUsPerCall(50_000, () => { messageKeys(ck) }), { calls: 50_000 })
  const cipher = new RecordCipher(randomBytes(32))
  const aad = randomBytes(40)
  for (const bytes of [60, 3500]) {
    const content = randomBytes(bytes)
    emit('msg_crypto_record_seal_cpu_us', cpuUsPerCall(50_000, () => { cipher.sealValue(content, 256, aad) }), { calls: 50_000, contentBytes: bytes })
  }
  emit('msg_crypto_key_tag_cpu_us', cpuUsPerCall(50_000, i => { cipher.tag('bench', `id${i}`) }), { calls: 50_000 })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
