// One peer's Double Ratchet sessions as stored bytes (proto-spec/envelope.md §8.4): at most
// MAX_SESSIONS, the active one (that we send on) named by its base. Sealed at rest by the store
// like every record; this module only lays the fields out (msgpack, as store records are).
import { Packr } from 'msgpackr'
import { decodeState, encodeState, type RatchetState } from '../ratchet/index.js'

/** Sessions kept per peer: the active one and a few older ones that may still have messages in flight. */
export const MAX_SESSIONS = 4

export interface Session {
  /** EK_A of the PQXDH start (pqxdh.md §4.2): names the session in both peers' books */
  base: Uint8Array
  state: RatchetState
  /** we started it: the initial message, repeated in every message until the peer answers (§8.3) */
  initial: Uint8Array | null
  /** we started it (else the peer did) */
  ours: boolean
  /** something from the peer decrypted on it */
  confirmed: boolean
}

export interface PeerSessions {
  /** newest first; index 0 is the active session */
  list: Session[]
}

const packr = /* @__PURE__ */ new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false })

interface Stored { b: Uint8Array, s: Uint8Array, i?: Uint8Array, o: boolean, c: boolean }

export function encodePeerSessions (p: PeerSessions): Uint8Array {
  return packr.pack({
    v: 1,
    l: p.list.map((s): Stored => ({ b: s.base, s: encodeState(s.state), ...(s.initial === null ? {} : { i: s.initial }), o: s.ours, c: s.confirmed }))
  })
}

/** Null when the bytes are not a record this version wrote. */
export function decodePeerSessions (bytes: Uint8Array): PeerSessions | null {
  let v: { v?: unknown, l?: unknown }
  try {
    v = packr.unpack(bytes) as typeof v
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null || v.v !== 1 || !Array.isArray(v.l)) return null
  const list: Session[] = []
  for (const x of v.l as Array<Partial<Stored>>) {
    if (!(x.b instanceof Uint8Array) || !(x.s instanceof Uint8Array) || typeof x.o !== 'boolean' || typeof x.c !== 'boolean') return null
    const state = decodeState(x.s)
    if (state === null) return null
    list.push({ base: x.b, state, initial: x.i instanceof Uint8Array ? x.i : null, ours: x.o, confirmed: x.c })
  }
  return { list }
}
