// The prekey ring: our signed prekey pairs (SPK and PQSPK, made and retired together), their
// rotation on a schedule, and the replay memory of each (proto-spec/pqxdh.md §5, §6). Pure: `now`
// and randomness come in, a new ring goes out; nothing here is mutated after it is returned, so
// the caller can commit the new ring (prekey-file.ts) before acting on it and keep the old one
// if the commit fails. Secrets of deleted pairs are handed back for the caller to wipe once the
// new ring is committed.
import { errors } from '../errors.js'
import { ed25519, x25519, randomBytes, wipe, type KeyPair } from '../crypto/primitives.js'
import { type Identity } from '../crypto/identity.js'
import { mlkem768, type KemKeyPair } from './kem.js'
import {
  X25519_KEY_BYTES, MLKEM768_SEED_BYTES, PREKEY_ROTATE_MS, PREKEY_GRACE_MS, MAX_SEEN_PER_PREKEY, MAX_PREKEY_SETS
} from './constants.js'
import { spkSignedMessage, pqspkSignedMessage, encodeBundle } from './codec.js'

/** Where key material comes from: OpenSSL's random source unless a test fixes it. */
export type KeyRandom = (n: number) => Uint8Array

export interface PrekeySet {
  readonly id: number
  /** seconds since the Unix epoch */
  readonly createdS: number
  /** when a newer pair replaced this one, seconds; 0 while it is the current pair */
  readonly retiredS: number
  readonly spk: KeyPair
  /** the 64-byte ML-KEM seed d ‖ z the PQSPK pair is made from (what is stored) */
  readonly kemSeed: Uint8Array
  readonly pqspk: KemKeyPair
  readonly spkSignature: Uint8Array
  readonly pqspkSignature: Uint8Array
  /** hex EK_A of initial messages accepted under this pair (§6) */
  readonly seen: ReadonlySet<string>
}

export interface PrekeyRing {
  /** the id the next pair gets */
  readonly nextId: number
  /** oldest first; at most one has retiredS = 0, and it is the last */
  readonly sets: readonly PrekeySet[]
}

export const EMPTY_RING: PrekeyRing = { nextId: 1, sets: [] }

/** A prekey pair from its stored parts: the public keys and (given) signatures follow from them. */
export function prekeySetFrom (p: {
  id: number, createdS: number, retiredS: number, spkSecret: Uint8Array, kemSeed: Uint8Array,
  spkSignature: Uint8Array, pqspkSignature: Uint8Array, seen?: Iterable<string>
}): PrekeySet {
  return {
    id: p.id,
    createdS: p.createdS,
    retiredS: p.retiredS,
    spk: { secretKey: p.spkSecret, publicKey: x25519.publicFromSecret(p.spkSecret) },
    kemSeed: p.kemSeed,
    pqspk: mlkem768.keygen(p.kemSeed),
    spkSignature: p.spkSignature,
    pqspkSignature: p.pqspkSignature,
    seen: new Set(p.seen ?? [])
  }
}

/** A new pair, signed by `me` (§3.2). */
export function createPrekeySet (me: Identity, id: number, createdS: number, random: KeyRandom = randomBytes): PrekeySet {
  const spkSecret = random(X25519_KEY_BYTES)
  const kemSeed = random(MLKEM768_SEED_BYTES)
  if (spkSecret.length !== X25519_KEY_BYTES || kemSeed.length !== MLKEM768_SEED_BYTES) throw errors.CRYPTO('prekey randomness: wrong length')
  const spkPublic = x25519.publicFromSecret(spkSecret)
  const pqspk = mlkem768.keygen(kemSeed)
  return {
    id,
    createdS,
    retiredS: 0,
    spk: { secretKey: spkSecret, publicKey: spkPublic },
    kemSeed,
    pqspk,
    spkSignature: ed25519.sign(spkSignedMessage(id, createdS, spkPublic), me.signSecret),
    pqspkSignature: ed25519.sign(pqspkSignedMessage(id, createdS, pqspk.publicKey), me.signSecret),
    seen: new Set()
  }
}

export function currentSet (ring: PrekeyRing): PrekeySet | undefined {
  const last = ring.sets[ring.sets.length - 1]
  return last !== undefined && last.retiredS === 0 ? last : undefined
}

export function findSet (ring: PrekeyRing, id: number): PrekeySet | undefined {
  return ring.sets.find(s => s.id === id)
}

/** The bundle others start sessions with (§3.3): the current pair; throws if there is none. */
export function bundleOf (ring: PrekeyRing, me: Identity): Uint8Array {
  const cur = currentSet(ring)
  if (cur === undefined) throw errors.CRYPTO('no current prekey pair: rotate the prekey ring first')
  return encodeBundle({
    owner: { signPublic: me.signPublic, dhPublic: me.dhPublic, dhSignature: me.dhSignature },
    prekeyId: cur.id,
    createdS: cur.createdS,
    spk: cur.spk.publicKey,
    spkSignature: cur.spkSignature,
    pqspk: cur.pqspk.publicKey,
    pqspkSignature: cur.pqspkSignature
  })
}

const seconds = (ms: number): number => Math.floor(ms / 1000)

function needsNewSet (cur: PrekeySet | undefined, nowS: number): boolean {
  return cur === undefined || nowS - cur.createdS >= PREKEY_ROTATE_MS / 1000 || cur.seen.size >= MAX_SEEN_PER_PREKEY
}

function unusedId (ring: PrekeyRing): number {
  let id = ring.nextId
  while (id === 0 || ring.sets.some(s => s.id === id)) id = (id + 1) >>> 0
  return id
}

export interface Rotation {
  ring: PrekeyRing
  /** the pair made now, if any: publish the new bundle */
  created?: PrekeySet
  /** pairs deleted now: wipe them (wipePrekeySets) after the new ring is committed */
  deleted: PrekeySet[]
}

/**
 * §5: makes a new current pair when there is none, when the current one is PREKEY_ROTATE_MS old
 * or its replay memory is full, retiring the old one; deletes pairs retired PREKEY_GRACE_MS ago,
 * and the oldest retired ones past MAX_PREKEY_SETS.
 */
export function rotatePrekeys (ring: PrekeyRing, me: Identity, nowMs: number, random: KeyRandom = randomBytes): Rotation {
  const nowS = seconds(nowMs)
  let sets = [...ring.sets]
  let nextId = ring.nextId
  let created: PrekeySet | undefined
  const cur = currentSet(ring)
  if (needsNewSet(cur, nowS)) {
    if (cur !== undefined) sets[sets.length - 1] = { ...cur, retiredS: Math.max(nowS, 1) }
    const id = unusedId(ring)
    created = createPrekeySet(me, id, nowS, random)
    sets.push(created)
    nextId = (id + 1) >>> 0
  }
  const deleted: PrekeySet[] = []
  const keep = (s: PrekeySet): boolean => s.retiredS === 0 || nowS - s.retiredS < PREKEY_GRACE_MS / 1000
  for (const s of sets) if (!keep(s)) deleted.push(s)
  sets = sets.filter(keep)
  while (sets.length > MAX_PREKEY_SETS) deleted.push(sets.shift() as PrekeySet)
  return { ring: { nextId, sets }, created, deleted }
}

/** When rotatePrekeys next has something to do, in ms (for the caller's timer). */
export function nextRotationAt (ring: PrekeyRing): number {
  const cur = currentSet(ring)
  if (cur === undefined) return 0
  let at = (cur.createdS * 1000) + PREKEY_ROTATE_MS
  for (const s of ring.sets) if (s.retiredS !== 0) at = Math.min(at, s.retiredS * 1000 + PREKEY_GRACE_MS)
  return at
}

/** The ring with `ephemeral` remembered under pair `id` (§6); the pair must be in the ring. */
export function rememberInitial (ring: PrekeyRing, id: number, ephemeral: Uint8Array): PrekeyRing {
  const hex = Buffer.from(ephemeral).toString('hex')
  return {
    nextId: ring.nextId,
    sets: ring.sets.map(s => s.id === id ? { ...s, seen: new Set([...s.seen, hex]) } : s)
  }
}

export function hasSeen (set: PrekeySet, ephemeral: Uint8Array): boolean {
  return set.seen.has(Buffer.from(ephemeral).toString('hex'))
}

/** Overwrites the secrets of pairs no longer in any committed ring. */
export function wipePrekeySets (sets: readonly PrekeySet[]): void {
  for (const s of sets) wipe(s.spk.secretKey, s.kemSeed, s.pqspk.secretKey)
}
