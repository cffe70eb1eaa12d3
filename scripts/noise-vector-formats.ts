// The two published JSON formats of Noise test vectors, read into one shape (test/vectors/noise/
// SOURCE.md says where each file comes from):
// - cacophony's: each vector names its protocol in `protocol_name`; pre-shared keys (Noise
//   revision 32 and later, `psk0`..`psk3` modifiers) as `init_psks` / `resp_psks` arrays.
// - noise-c's older one: `name` labels the vector, and the protocol is spelled out as `pattern`,
//   `dh`, `cipher` and `hash` (noise-c builds the name `Noise[PSK]_PATTERN_DH[+HYBRID]_CIPHER_HASH`
//   from them). A single `init_psk` / `resp_psk` is the pre-revision-32 "NoisePSK_" mode,
//   `hybrid` a hybrid-forward-secrecy extension, `fallback` an IK→XXfallback run, and `fail: true`
//   says the last message must not be accepted.
// Both give every party's private keys in hex (`*_ephemeral`, `*_static`), the peer's public key
// known in advance as `*_remote_static`, and `messages` of `{payload, ciphertext}`.
import { errors } from '../src/errors.js'

export interface NoiseVectorMessage { payload: string, ciphertext: string }

export type VectorFormat = 'cacophony' | 'noise-c'

/** A vector in cacophony's field names, whichever format it was read from. */
export interface NoiseVector {
  format?: VectorFormat
  /** what reports call it: the protocol name, or noise-c's `name` */
  label?: string
  protocol_name: string
  init_prologue: string
  init_ephemeral: string
  init_static?: string
  init_remote_static?: string
  init_psks?: string[]
  resp_prologue: string
  resp_ephemeral?: string
  resp_static?: string
  resp_remote_static?: string
  resp_psks?: string[]
  /** h after the last handshake message; noise-c compares as many bytes as are given */
  handshake_hash?: string
  /** the receiver must refuse the last message (noise-c's `fail`) */
  fail?: boolean
  /** set when the vector uses a feature of its format that no protocol name can express */
  unsupported?: string
  messages: NoiseVectorMessage[]
}

type Json = Record<string, unknown>

const isString = (x: unknown): x is string => typeof x === 'string'

function optionalHex (v: Json, key: string, i: number): string | undefined {
  const x = v[key]
  if (x === undefined) return undefined
  if (!isString(x) || !/^([0-9a-f]{2})*$/i.test(x)) throw errors.BAD_ARGUMENT(`noise vectors: entry ${i}: ${key} is not hex`)
  return x.toLowerCase()
}

function messages (v: Json, i: number): NoiseVectorMessage[] {
  const list = v.messages as unknown[]
  return list.map((m, j) => {
    const payload = optionalHex(m as Json, 'payload', i)
    const ciphertext = optionalHex(m as Json, 'ciphertext', i)
    if (payload === undefined || ciphertext === undefined) {
      throw errors.BAD_ARGUMENT(`noise vectors: entry ${i}, message ${j} lacks payload or ciphertext`)
    }
    return { payload, ciphertext }
  })
}

function keys (v: Json, i: number): Omit<NoiseVector, 'protocol_name' | 'messages'> {
  return {
    init_prologue: optionalHex(v, 'init_prologue', i) ?? '',
    init_ephemeral: optionalHex(v, 'init_ephemeral', i) ?? '',
    init_static: optionalHex(v, 'init_static', i),
    init_remote_static: optionalHex(v, 'init_remote_static', i),
    resp_prologue: optionalHex(v, 'resp_prologue', i) ?? '',
    resp_ephemeral: optionalHex(v, 'resp_ephemeral', i),
    resp_static: optionalHex(v, 'resp_static', i),
    resp_remote_static: optionalHex(v, 'resp_remote_static', i),
    handshake_hash: optionalHex(v, 'handshake_hash', i)
  }
}

function withoutUndefined (v: NoiseVector): NoiseVector {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as unknown as NoiseVector
}

function fromCacophony (v: Json, i: number): NoiseVector {
  const psks = (key: string): string[] | undefined => {
    const x = v[key]
    if (x === undefined) return undefined
    if (!Array.isArray(x) || !x.every(isString)) throw errors.BAD_ARGUMENT(`noise vectors: entry ${i}: ${key} is not a list of hex strings`)
    return x
  }
  const name = v.protocol_name as string
  return withoutUndefined({
    format: 'cacophony',
    label: name,
    protocol_name: name,
    ...keys(v, i),
    init_psks: psks('init_psks'),
    resp_psks: psks('resp_psks'),
    messages: messages(v, i)
  })
}

function fromNoiseC (v: Json, i: number): NoiseVector {
  const [pattern, dh, cipher, hash] = ['pattern', 'dh', 'cipher', 'hash'].map(k => v[k] as string)
  const oldPsk = v.init_psk !== undefined || v.resp_psk !== undefined
  const hybrid = isString(v.hybrid) ? `+${v.hybrid}` : ''
  // the protocol noise-c itself would run for these fields
  const protocolName = `Noise${oldPsk ? 'PSK' : ''}_${pattern}_${dh}${hybrid}_${cipher}_${hash}`
  let unsupported: string | undefined
  if (oldPsk) unsupported = 'pre-shared keys of the NoisePSK_ form (before Noise revision 32) are not supported'
  else if (hybrid !== '') unsupported = 'hybrid forward secrecy is not supported'
  else if (v.fallback === true) unsupported = 'fallback handshakes are not supported'
  return withoutUndefined({
    format: 'noise-c',
    label: isString(v.name) ? v.name : protocolName,
    protocol_name: protocolName,
    ...keys(v, i),
    fail: v.fail === true ? true : undefined,
    unsupported,
    messages: messages(v, i)
  })
}

/**
 * Parse a vector file's text ({"vectors": [...]}) in either format, entry by entry; throws
 * BAD_ARGUMENT when it is not one.
 */
export function parseVectorFile (text: string): NoiseVector[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw errors.BAD_ARGUMENT(`noise vectors: not JSON (${(err as Error).message})`)
  }
  const vectors = (doc as { vectors?: unknown })?.vectors
  if (!Array.isArray(vectors)) throw errors.BAD_ARGUMENT('noise vectors: expected {"vectors": [...]}')
  return vectors.map((v: Json, i) => {
    if (typeof v !== 'object' || v === null || !Array.isArray(v.messages)) {
      throw errors.BAD_ARGUMENT(`noise vectors: entry ${i} lacks messages`)
    }
    if (isString(v.protocol_name)) return fromCacophony(v, i)
    if (['pattern', 'dh', 'cipher', 'hash'].every(k => isString(v[k]))) return fromNoiseC(v, i)
    throw errors.BAD_ARGUMENT(`noise vectors: entry ${i} lacks protocol_name (cacophony) or pattern, dh, cipher and hash (noise-c)`)
  })
}
