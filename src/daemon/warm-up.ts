// The first connect's crypto, run once on throwaway keys right after the daemon is ready
// (docs/performance.md §12.3). A process runs every function the first time in V8's interpreter,
// after compiling it from source; the session start of a first contact runs a few hundred such
// functions — the Noise IK handshake (session.md §2), the punch messages (traversal.md §5.2), the
// v1 envelope (envelope.md §5–§6), PQXDH with its ML-KEM-768 (pqxdh.md §3) and the Double Ratchet
// (envelope.md §8) — and a fresh daemon paid for that on its first connect: tens of ms of CPU
// between the session coming up and the first message leaving. Here the same code runs on keys
// made for the purpose and dropped after: nothing is sent, stored or logged but one debug line,
// and no secret of the user's is touched. Each step is its own macrotask, so a connect or an IPC
// call that arrives meanwhile waits for one step at most (a few ms warm, ~30 ms cold), and the
// daemon is ready (its socket answers) before the first step runs. It runs once per process.
import { generateIdentity, wipeIdentity, type Identity } from '../crypto/identity.js'
import { fingerprintOf } from '../crypto/fingerprint.js'
import { randomBytes } from '../crypto/primitives.js'
import { InitiatorHandshake, respondToInitiation, type CompletedHandshake } from '../transport/handshake.js'
import { SessionKeys } from '../transport/session-keys.js'
import { tai64n } from '../transport/proof.js'
import { decodePacket, type HandshakeInitiation, type HandshakeResponse, type TransportData } from '../wire/packet.js'
import { mac1Key, checkMac1 } from '../wire/mac1.js'
import { sealEnvelope, openEnvelope } from '../wire/seal.js'
import { PayloadType } from '../wire/constants.js'
import type { TypedPayload } from '../wire/payloads.js'
import { sealPunch, openPunch } from '../traversal/punch-seal.js'
import { bundleOf, createPrekeySet, respond, type PrekeyRing } from '../pqxdh/index.js'
import { SessionBook } from '../session-crypto/index.js'

/** The steps run, and the CPU ms of each (this process's, so anything else in its turn counts too) and of all. */
export interface WarmUpResult { steps: number, stepMs: number[], cpuMs: number }

/** One step's throwaway parties. */
interface Pair { a: Identity, b: Identity }

function check (ok: boolean, what: string): void {
  if (!ok) throw new Error(`warm-up: ${what}`)
}

/** Noise IK both ways (session.md §2.2) and a transport packet each way, as a dial does. */
function handshake ({ a, b }: Pair): void {
  const now = Date.now()
  const init = new InitiatorHandshake({ identity: a, localIndex: 1 }, b.dhPublic, randomBytes(8), mac1Key(b.fingerprint), tai64n(now))
  const bytes = init.initiation()
  check(checkMac1(bytes, mac1Key(b.fingerprint)), 'mac1')
  const responded = respondToInitiation({ identity: b, localIndex: 2 }, decodePacket(bytes) as HandshakeInitiation)
  check(responded.ok && responded.value.ik !== null, 'IK response')
  const ik = (responded as { value: { ik: CompletedHandshake, response: Uint8Array } }).value
  const done = init.consumeResponse(decodePacket(ik.response) as HandshakeResponse)
  check(done.ok, 'IK completion')
  const ka = new SessionKeys({ localIndex: 1, remoteIndex: 2, initiator: true, createdAt: now }, (done as { value: CompletedHandshake }).value.keys)
  const kb = new SessionKeys({ localIndex: 2, remoteIndex: 1, initiator: false, createdAt: now }, ik.ik.keys)
  for (const [from, to] of [[ka, kb], [kb, ka]] as const) {
    const datagram = from.seal(randomBytes(64))
    const p = decodePacket(datagram) as TransportData
    check(to.open(datagram, p.counter, p.ciphertext, now) instanceof Uint8Array, 'transport data')
  }
  ka.destroy(); kb.destroy()
}

/** A punch offer and its answer (traversal.md §5.2), sealed and opened. */
function punch ({ a, b }: Pair): void {
  const candidates = [{ kind: 'lan' as const, host: '192.168.1.2', port: 40000 }, { kind: 'reflexive' as const, host: '203.0.113.7', port: 40001 }]
  const offer = openPunch(sealPunch({ role: 'offer', punchId: randomBytes(16), sentAt: Date.now(), natKind: 'endpoint-independent', candidates }, a, b.dhPublic), b)
  check(offer !== null, 'punch offer')
  check(openPunch(sealPunch({ role: 'answer', punchId: offer!.punchId, sentAt: Date.now(), natKind: 'endpoint-independent', candidates }, b, a.dhPublic), a) !== null, 'punch answer')
}

/** A CONTACT_REQUEST and a PRESENCE as v1 envelopes (envelope.md §5–§6), each way. */
function envelopes ({ a, b }: Pair): void {
  const now = Date.now()
  for (const [from, to] of [[a, b], [b, a]] as const) {
    const opts = { recipientDhSecret: to.dhSecret, recipientDhPublic: to.dhPublic, recipientFingerprint: to.fingerprint, lookupSender: (fp: string) => fp === from.fingerprint ? from.signPublic : undefined, fingerprintOf, now }
    const request = sealEnvelope({ sender: from, recipient: to, type: PayloadType.CONTACT_REQUEST, payload: { signPublic: from.signPublic, dhPublic: from.dhPublic, dhSignature: from.dhSignature, name: 'warm-up' }, timestamp: now })
    check(openEnvelope(request.bytes, opts).ok, 'contact request')
    const presence = sealEnvelope({ sender: from, recipient: to, type: PayloadType.PRESENCE, payload: { state: 'online', addresses: [{ host: '203.0.113.7', port: 40001 }], caps: 1 }, timestamp: now })
    check(openEnvelope(presence.bytes, opts).ok, 'presence')
  }
}

/** The throwaway responder's prekey ring (one pair, pqxdh.md §3.2): made once, like a daemon's own at start. */
function ringOf (b: Identity): PrekeyRing {
  return { nextId: 2, sets: [createPrekeySet(b, 1, Math.floor(Date.now() / 1000))] }
}

/**
 * PQXDH both roles and the ratchet's first turns (envelope.md §8): a start with a TEXT, the
 * answer's receipt, the reply; one step each (cold, the first two are ~20 ms apiece).
 */
function sessions ({ a, b }: Pair, ring: PrekeyRing): Array<() => void> {
  const now = Date.now()
  const A = new SessionBook({ identity: a, random: randomBytes })
  const B = new SessionBook({ identity: b, random: randomBytes, respond: im => respond(b, ring, im) })
  const text = (): TypedPayload => ({ type: PayloadType.TEXT, payload: { text: 'warm-up' } })
  let sealed: Uint8Array | undefined
  return [
    () => {
      check(A.start(b.fingerprint, bundleOf(ring, b), now).ok, 'PQXDH start')
      sealed = A.seal(b.fingerprint, text(), randomBytes(16), now)?.bytes
    },
    () => {
      check(sealed !== undefined && B.open(a.fingerprint, sealed, now).ok, 'session start')
      sealed = B.seal(a.fingerprint, { type: PayloadType.DELIVERY_RECEIPT, payload: { ids: [randomBytes(16)] } }, randomBytes(16), now)?.bytes
    },
    () => {
      check(sealed !== undefined && A.open(b.fingerprint, sealed, now).ok, 'receipt')
      const reply = A.seal(b.fingerprint, text(), randomBytes(16), now)
      check(reply !== null && B.open(a.fingerprint, reply.bytes, now).ok, 'reply')
      A.forget(b.fingerprint); B.forget(a.fingerprint)
    }
  ]
}

const ms = (d: NodeJS.CpuUsage): number => Math.round((d.user + d.system) / 100) / 10
const nextTurn = async (): Promise<void> => await new Promise(resolve => setImmediate(resolve))

/**
 * Runs the steps, one macrotask each, on two identities made for it; resolves with the CPU time
 * they took (the process's, so other work in between counts too: an upper bound). `stopped`
 * ends it between steps (the daemon stopping).
 */
export async function warmUp (stopped: () => boolean = () => false): Promise<WarmUpResult> {
  const cpu0 = process.cpuUsage()
  const made: Identity[] = []
  const pair = (): Pair => ({ a: made[0]!, b: made[1]! })
  const steps: Array<() => void> = [
    () => { made.push(generateIdentity(), generateIdentity()) },
    () => handshake(pair()),
    () => punch(pair()),
    () => envelopes(pair()),
    () => {
      const ring = ringOf(pair().b)
      // twice: the second run finds the first's compiled code and type feedback, and leaves it warmer still
      steps.push(...sessions(pair(), ring), ...sessions(pair(), ring))
    }
  ]
  const stepMs: number[] = []
  try {
    for (let n = 0; n < steps.length; n++) {
      await nextTurn()
      if (stopped()) break
      const c = process.cpuUsage()
      steps[n]!()
      stepMs.push(ms(process.cpuUsage(c)))
    }
  } finally {
    for (const id of made) wipeIdentity(id)
  }
  return { steps: stepMs.length, stepMs, cpuMs: ms(process.cpuUsage(cpu0)) }
}
