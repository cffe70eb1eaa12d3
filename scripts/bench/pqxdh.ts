// PQXDH session start cost (proto-spec/pqxdh.md): ML-KEM-768 key generation, encapsulation and
// decapsulation per second through src/crypto/ml-kem.ts as this process uses it (the C in the
// native addon, or TypeScript without it or with DMESS_NATIVE=off), its TypeScript implementation
// and, for comparison, @noble/post-quantum (Keccak in JavaScript), a prekey
// pair made and signed, and whole runs: opening a bundle and initiating (Alice), responding (Bob),
// and both. One JSON line per metric, the median of RUNS timed batches.
// `npx tsx scripts/bench/pqxdh.ts` or `npm run bench -- pqxdh`.
import { pathToFileURL } from 'node:url'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { mlKemImplementation, typescriptMlKem768 } from '../../src/crypto/ml-kem.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { randomBytes } from '../../src/crypto/primitives.js'
import { mlkem768, EMPTY_RING, rotatePrekeys, createPrekeySet, bundleOf, initiate, respond } from '../../src/pqxdh/index.js'

const RUNS = 5
const BATCH = Number(process.env.DMESS_BENCH_PQXDH_N ?? 100)

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Operations per second of `op` (called BATCH times per run; `prepare` is not timed). */
function perSecond<T> (prepare: () => T, op: (input: T) => unknown): number {
  op(prepare()) // warm-up
  const rates: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const inputs = Array.from({ length: BATCH }, prepare)
    const start = process.hrtime.bigint()
    for (const input of inputs) op(input)
    rates.push(BATCH / (Number(process.hrtime.bigint() - start) / 1e9))
  }
  return median(rates)
}

const MLKEM = mlKemImplementation().name

function emit (metric: string, value: number, params: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ metric, value: Math.round(value), params: { batch: BATCH, runs: RUNS, ...params } }))
}

export async function run (): Promise<void> {
  const kems = [
    [`src/crypto/ml-kem.ts (${MLKEM})`, mlkem768],
    ...(MLKEM === 'typescript' ? [] : [['src/crypto/ml-kem.ts (typescript)', typescriptMlKem768]] as const),
    ['@noble/post-quantum ml_kem768', ml_kem768]
  ] as const
  for (const [impl, kem] of kems) {
    const p = { implementation: impl }
    const pair = kem.keygen(randomBytes(64))
    emit('mlkem768_keygen_per_s', perSecond(() => randomBytes(64), seed => kem.keygen(seed)), p)
    emit('mlkem768_encaps_per_s', perSecond(() => randomBytes(32), m => kem.encapsulate(pair.publicKey, m)), p)
    const ct = kem.encapsulate(pair.publicKey, randomBytes(32)).cipherText
    emit('mlkem768_decaps_per_s', perSecond(() => ct, c => kem.decapsulate(c, pair.secretKey)), p)
  }

  const alice = generateIdentity()
  const bob = generateIdentity()
  const now = Date.now()
  const ring = rotatePrekeys(EMPTY_RING, bob, now).ring
  const bundle = bundleOf(ring, bob)
  emit('pqxdh_prekey_pair_per_s', perSecond(() => 0, () => createPrekeySet(bob, 1, 1)), { what: 'X25519 + ML-KEM-768 key pairs, two Ed25519 signatures', mlkem: MLKEM })
  const start = (): Uint8Array => {
    const i = initiate(alice, bundle, bob.fingerprint, now)
    if (!i.ok) throw i.error
    return i.value.initialMessage
  }
  emit('pqxdh_initiator_per_s', perSecond(() => 0, start), { what: 'open the bundle (3 signature checks), 3 X25519, encapsulate, KDF', mlkem: MLKEM })
  emit('pqxdh_responder_per_s', perSecond(start, msg => { if (!respond(bob, ring, msg).ok) throw new Error('respond failed') }), { what: 'identity check, 3 X25519, decapsulate, KDF', mlkem: MLKEM })
  emit('pqxdh_full_run_per_s', perSecond(() => 0, () => { if (!respond(bob, ring, start()).ok) throw new Error('respond failed') }), { what: 'initiator + responder', mlkem: MLKEM })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
