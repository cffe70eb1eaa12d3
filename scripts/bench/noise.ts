// Noise engine throughput, in process (no network): complete XX and IK handshakes per second
// (both parties' work, i.e. one initiator plus one responder), and transport sealing speed.
// One JSON line per metric. Every loop is bounded in count and in time.
//   npx tsx scripts/bench/noise.ts        (or: npm run bench -- noise)
import { pathToFileURL } from 'node:url'
import { HandshakeState, NOISE_XX, NOISE_IK, NOISE_PROLOGUE } from '../../src/crypto/noise/index.js'
import { x25519, type KeyPair } from '../../src/crypto/primitives.js'

const MAX_HANDSHAKES = 5000
const MAX_MS = 1500
const PAYLOAD = new Uint8Array(96) // about the size of the identity proof a handshake carries

function handshake (protocolName: string, iS: KeyPair, rS: KeyPair): void {
  const ik = protocolName === NOISE_IK
  const i = new HandshakeState({ protocolName, initiator: true, prologue: NOISE_PROLOGUE, s: iS, rs: ik ? rS.publicKey : undefined })
  const r = new HandshakeState({ protocolName, initiator: false, prologue: NOISE_PROLOGUE, s: rS })
  let [from, to] = [i, r]
  while (!i.complete) {
    to.readMessage(from.writeMessage(PAYLOAD))
    ;[from, to] = [to, from]
  }
  if (!r.complete) throw new Error('handshake did not complete')
}

/** Runs fn until MAX count or MAX_MS; returns operations per second. */
export function rate (fn: () => void, maxCount: number): { perSecond: number, count: number } {
  fn() // warm up
  const start = process.hrtime.bigint()
  let count = 0
  let elapsedMs = 0
  while (count < maxCount && elapsedMs < MAX_MS) {
    fn()
    count++
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6
  }
  return { perSecond: count / (elapsedMs / 1000), count }
}

function transportMBps (bytes: number): number {
  const iS = x25519.generateKeyPair()
  const rS = x25519.generateKeyPair()
  const i = new HandshakeState({ protocolName: NOISE_IK, initiator: true, s: iS, rs: rS.publicKey })
  const r = new HandshakeState({ protocolName: NOISE_IK, initiator: false, s: rS })
  r.readMessage(i.writeMessage())
  i.readMessage(r.writeMessage())
  const send = i.cipherStates?.send
  const receive = r.cipherStates?.receive
  if (send === undefined || receive === undefined) throw new Error('handshake did not complete')
  const msg = new Uint8Array(bytes)
  const ad = new Uint8Array(0)
  const { perSecond } = rate(() => { receive.decryptWithAd(ad, send.encryptWithAd(ad, msg)) }, 100_000)
  return (perSecond * bytes) / 1e6
}

const round = (x: number): number => Math.round(x * 10) / 10

export async function run (): Promise<void> {
  const iS = x25519.generateKeyPair()
  const rS = x25519.generateKeyPair()
  for (const [metric, name] of [['noise_xx_handshakes_per_s', NOISE_XX], ['noise_ik_handshakes_per_s', NOISE_IK]] as const) {
    const { perSecond, count } = rate(() => handshake(name, iS, rS), MAX_HANDSHAKES)
    console.log(JSON.stringify({ metric, value: round(perSecond), params: { protocol: name, handshakes: count } }))
  }
  for (const bytes of [1024, 16384]) {
    console.log(JSON.stringify({ metric: `noise_transport_${bytes / 1024}k_roundtrip_mb_per_s`, value: round(transportMBps(bytes)), params: { bytes, what: 'encrypt + decrypt' } }))
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
