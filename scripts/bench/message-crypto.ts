// CPU time per call of the work each message costs a daemon besides I/O (docs/performance.md §11):
// the Double Ratchet's encrypt and decrypt (proto-spec/ratchet.md), its KDF_CK and message-key
// HKDF, an open that turns the conversation (a DH + ML-KEM-768 step, with and without its key pairs
// made ahead: ratchet.md §7), sealing a record at rest (proto-spec/storage.md §Encryption) and a key tag. In process,
// from process.cpuUsage over a fixed count of calls after a warm-up, so a loaded machine slows
// it less than wall time would. One JSON line per metric.
//   npx tsx scripts/bench/message-crypto.ts    (or: npm run bench -- message-crypto)
import { pathToFileURL } from 'node:url'
import { chachaPolyImplementation, randomBytes, x25519 } from '../../src/crypto/primitives.js'
import { initAlice, initBob, ratchetEncrypt, ratchetDecrypt, generateKeyPairs, type NextKeyPairs, type RatchetState } from '../../src/ratchet/index.js'
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
  // a ping-pong: every open is a DH step; only the open is timed (the set made ahead is not)
  for (const ahead of [false, true]) {
    const st = [initAlice({ sk, ad, bobRatchetPublic: spk.publicKey }, randomBytes), initBob({ sk, ad, ratchetKeyPair: spk })]
    const TURNS = 1000
    let us = 0
    for (let i = 0; i < TURNS + 100; i++) {
      const from = i % 2
      const m = ratchetEncrypt(st[from]!, body, randomBytes)
      st[from] = m.state
      const set: NextKeyPairs | undefined = ahead ? generateKeyPairs(randomBytes) : undefined
      const t = process.cpuUsage()
      const r = ratchetDecrypt(st[1 - from]!, m.message, { now: 0, random: randomBytes, takeKeyPairs: () => set })
      const d = process.cpuUsage(t)
      if (!r.ok) throw new Error(`bench: decrypt failed (${r.reason})`)
      st[1 - from] = r.state
      if (i >= 100) us += d.user + d.system
    }
    emit('msg_crypto_ratchet_turn_open_cpu_us', us / TURNS, { calls: TURNS, keyPairsAhead: ahead, what: 'ratchetDecrypt with a DH + ML-KEM-768 step' })
  }
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
