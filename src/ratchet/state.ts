// The state of one Double Ratchet session (Signal, "The Double Ratchet Algorithm" §3.2 and §4.2)
// and its versioned byte form (proto-spec/ratchet.md §7), so the caller can store it encrypted and
// commit it together with the message it produced or consumed.
import { constantTimeEqual, wipe } from '../crypto/primitives.js'
import { concat } from './kdf.js'
import {
  STATE_VERSION, KEY_BYTES, X25519_BYTES, KEM_DK_BYTES, KEM_CT_BYTES, KEM_EK_BYTES, MAX_SKIPPED_KEYS, MAX_AD_BYTES
} from './constants.js'

/** A message key kept for a message that has not arrived yet (§3.2 MKSKIPPED, keyed by header key and number). */
export interface SkippedKey {
  readonly hk: Uint8Array
  readonly n: number
  readonly mk: Uint8Array
  /** `received` when it was skipped: it expires after SKIPPED_MAX_AGE_MESSAGES later messages */
  readonly seq: number
  /** the caller's clock when it was skipped (ms): it expires after SKIPPED_MAX_AGE_MS */
  readonly at: number
}

/**
 * Never mutated by this module: every operation returns a new state that shares the unchanged
 * parts, so a caller that fails to commit simply keeps the old one (§3.5: "discard changes").
 */
export interface RatchetState {
  /** DHs: our ratchet key pair */
  readonly dhs: { readonly secretKey: Uint8Array, readonly publicKey: Uint8Array }
  /** DHr: the peer's ratchet public key */
  readonly dhr: Uint8Array | null
  readonly rk: Uint8Array
  readonly cks: Uint8Array | null
  readonly ckr: Uint8Array | null
  readonly ns: number
  readonly nr: number
  readonly pn: number
  readonly hks: Uint8Array | null
  readonly hkr: Uint8Array | null
  readonly nhks: Uint8Array
  readonly nhkr: Uint8Array
  /** our current ML-KEM-768 decapsulation key (FIPS 203 dk, which embeds ek); null until our first step */
  readonly kemDk: Uint8Array | null
  /** our ML-KEM-768 ciphertext to the peer's last encapsulation key, sent in each header of this chain */
  readonly kemCt: Uint8Array | null
  /** messages decrypted in this session: the clock skipped keys age by */
  readonly received: number
  /** oldest first */
  readonly skipped: readonly SkippedKey[]
  /** associated data binding both identities (from PQXDH), authenticated with every header and body */
  readonly ad: Uint8Array
}

/** The ML-KEM encapsulation key embedded in a decapsulation key (FIPS 203 Algorithm 16: dk = dkPKE ‖ ek ‖ H(ek) ‖ z). */
export function ekOf (dk: Uint8Array): Uint8Array {
  const off = KEM_DK_BYTES - 64 - KEM_EK_BYTES
  return dk.subarray(off, off + KEM_EK_BYTES)
}

const F_DHR = 1; const F_CKS = 2; const F_CKR = 4; const F_HKS = 8; const F_HKR = 16; const F_DK = 32; const F_CT = 64

class Writer {
  readonly parts: Uint8Array[] = []
  u8 (x: number): void { this.parts.push(Uint8Array.of(x)) }
  u32 (x: number): void { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, x); this.parts.push(b) }
  u64 (x: number): void { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(x)); this.parts.push(b) }
  bytes (b: Uint8Array | null): void { if (b !== null) this.parts.push(b) }
}

class Reader {
  o = 0
  constructor (readonly b: Uint8Array, readonly v = new DataView(b.buffer, b.byteOffset, b.length)) {}
  has (n: number): boolean { return this.o + n <= this.b.length }
  u8 (): number { return this.v.getUint8(this.o++) }
  u32 (): number { const x = this.v.getUint32(this.o); this.o += 4; return x }
  u64 (): number { const x = this.v.getBigUint64(this.o); this.o += 8; return x > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(x) }
  bytes (n: number): Uint8Array { const x = this.b.slice(this.o, this.o + n); this.o += n; return x }
  opt (flags: number, bit: number, n: number): Uint8Array | null { return (flags & bit) !== 0 ? this.bytes(n) : null }
}

/** ratchet.md §7: the state as versioned bytes. Holds secrets: store it encrypted. */
export function encodeState (s: RatchetState): Uint8Array {
  const w = new Writer()
  const flags = (s.dhr ? F_DHR : 0) | (s.cks ? F_CKS : 0) | (s.ckr ? F_CKR : 0) | (s.hks ? F_HKS : 0) |
    (s.hkr ? F_HKR : 0) | (s.kemDk ? F_DK : 0) | (s.kemCt ? F_CT : 0)
  w.u8(STATE_VERSION); w.u8(flags)
  w.bytes(s.dhs.secretKey); w.bytes(s.dhs.publicKey); w.bytes(s.dhr); w.bytes(s.rk); w.bytes(s.cks); w.bytes(s.ckr)
  w.u32(s.ns); w.u32(s.nr); w.u32(s.pn)
  w.bytes(s.hks); w.bytes(s.hkr); w.bytes(s.nhks); w.bytes(s.nhkr); w.bytes(s.kemDk); w.bytes(s.kemCt)
  w.u64(s.received); w.u32(s.ad.length); w.bytes(s.ad)
  w.u32(s.skipped.length)
  for (const k of s.skipped) { w.bytes(k.hk); w.u32(k.n); w.bytes(k.mk); w.u64(k.seq); w.u64(k.at) }
  return concat(...w.parts)
}

const FIXED_BYTES = 2 + 2 * X25519_BYTES + KEY_BYTES + 12 + 2 * KEY_BYTES + 8 + 4 + 4
const SKIPPED_ENTRY_BYTES = KEY_BYTES + 4 + KEY_BYTES + 16

/** The state, or null when the bytes are not a state this version wrote (wrong version, length or field). */
export function decodeState (b: Uint8Array): RatchetState | null {
  if (b.length < FIXED_BYTES || b[0] !== STATE_VERSION) return null
  const r = new Reader(b)
  r.u8()
  const f = r.u8()
  if ((f & ~0x7f) !== 0) return null
  const need = FIXED_BYTES + popcount(f & 0x1f) * KEY_BYTES + ((f & F_DK) !== 0 ? KEM_DK_BYTES : 0) + ((f & F_CT) !== 0 ? KEM_CT_BYTES : 0)
  if (!r.has(need - 2)) return null
  const dhs = { secretKey: r.bytes(X25519_BYTES), publicKey: r.bytes(X25519_BYTES) }
  const dhr = r.opt(f, F_DHR, X25519_BYTES); const rk = r.bytes(KEY_BYTES)
  const cks = r.opt(f, F_CKS, KEY_BYTES); const ckr = r.opt(f, F_CKR, KEY_BYTES)
  const ns = r.u32(); const nr = r.u32(); const pn = r.u32()
  const hks = r.opt(f, F_HKS, KEY_BYTES); const hkr = r.opt(f, F_HKR, KEY_BYTES)
  const nhks = r.bytes(KEY_BYTES); const nhkr = r.bytes(KEY_BYTES)
  const kemDk = r.opt(f, F_DK, KEM_DK_BYTES); const kemCt = r.opt(f, F_CT, KEM_CT_BYTES)
  const received = r.u64(); const adLen = r.u32()
  if (received < 0 || adLen > MAX_AD_BYTES || !r.has(adLen + 4)) return null
  const ad = r.bytes(adLen)
  const count = r.u32()
  if (count > MAX_SKIPPED_KEYS || b.length !== r.o + count * SKIPPED_ENTRY_BYTES) return null
  const skipped: SkippedKey[] = []
  // A live state counts skipped chains by header key object (ratchet.ts skippedChains): the entries
  // of one chain share one object, and the current chain's entries share HKr's. Restore both, or a
  // chain skipped into after a reload counts twice toward MAX_SKIPPED_CHAINS (ratchet.md §7).
  const chains: Uint8Array[] = hkr === null ? [] : [hkr]
  for (let i = 0; i < count; i++) {
    const hk = r.bytes(KEY_BYTES); const n = r.u32(); const mk = r.bytes(KEY_BYTES); const seq = r.u64(); const at = r.u64()
    if (seq < 0 || at < 0) return null
    const same = chains.find(c => constantTimeEqual(c, hk))
    if (same === undefined) chains.push(hk)
    else hk.fill(0) // a copy of a key kept once
    skipped.push({ hk: same ?? hk, n, mk, seq, at })
  }
  return { dhs, dhr, rk, cks, ckr, ns, nr, pn, hks, hkr, nhks, nhkr, kemDk, kemCt, received, skipped, ad }
}

/**
 * Wipe the secrets of a state the caller has replaced (after committing `next`), except those
 * `next` still shares. Best effort, as every wipe in JavaScript: copies may exist elsewhere.
 */
export function disposeState (old: RatchetState, next?: RatchetState): void {
  const keep = new Set<Uint8Array>(next === undefined ? [] : secretsOf(next))
  wipe(...secretsOf(old).filter(b => !keep.has(b))) // also drops OpenSSL's cached copy of a DH secret
}

function secretsOf (s: RatchetState): Uint8Array[] {
  const out = [s.dhs.secretKey, s.rk, s.nhks, s.nhkr]
  for (const b of [s.cks, s.ckr, s.hks, s.hkr, s.kemDk]) if (b !== null) out.push(b)
  for (const k of s.skipped) out.push(k.mk, k.hk)
  return out
}

function popcount (x: number): number { let n = 0; for (; x !== 0; x &= x - 1) n++; return n }
