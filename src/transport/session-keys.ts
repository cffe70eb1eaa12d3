// One generation of session keys: the two transport CipherStates of a completed handshake, the
// index pair that names them on the wire, and the receive replay window. A session holds up to
// two generations (current and previous) so packets in flight survive a rekey.
// proto-spec/session.md §4–§5, wire.md §4.6, §4.8, §7.
import type { CipherState } from '../crypto/noise/index.js'
import { PacketType, REJECT_AFTER_MS, MAX_COUNTER, TRANSPORT_DATA_HEADER_BYTES, AEAD_TAG_BYTES } from '../wire/constants.js'
import { writeTransportDataHeader } from '../wire/packet.js'
import { wipe } from '../crypto/primitives.js'
import { errors } from '../errors.js'
import { ReplayWindow } from './replay-window.js'
import type { HandshakeKeys } from './handshake.js'
import { unzeroedArrayBuffer } from '../platform/bytes.js'

export type OpenFailure = 'replay' | 'decrypt-failed' | 'expired'

// Sealed datagrams are carved from a shared slab, like Node's buffer pool but 8 times larger and
// without its Buffer object: one view per packet and a new ArrayBuffer every ~55 full-size
// packets (Buffer.allocUnsafe + a plain view: three objects per packet, a pool per ~7; each
// young ArrayBuffer costs the scavenger a sweep, docs/performance.md §2). Bytes handed out are never
// reused: a datagram keeps its slab alive while anyone holds it. Process-wide, like Node's pool:
// it hands out fresh bytes and remembers nothing of who took them, so sessions of different
// endpoints never see each other's data.
const SLAB_BYTES = 64 * 1024
let slab = unzeroedArrayBuffer(SLAB_BYTES)
let slabUsed = 0

function carve (n: number): Uint8Array {
  if (n > SLAB_BYTES) return new Uint8Array(n) // never: a datagram is at most 65,507 bytes (wire.md §3)
  if (slabUsed + n > SLAB_BYTES) {
    slab = unzeroedArrayBuffer(SLAB_BYTES) // a datagram is written whole (header, ciphertext, tag) before it is returned
    slabUsed = 0
  }
  const out = new Uint8Array(slab, slabUsed, n)
  slabUsed += (n + 7) & ~7 // 8-byte aligned, as Node's pool
  return out
}

export interface KeysInit {
  localIndex: number
  remoteIndex: number
  /** we sent message 1 of the handshake that made these keys */
  initiator: boolean
  createdAt: number
}

export class SessionKeys {
  readonly localIndex: number
  readonly remoteIndex: number
  readonly initiator: boolean
  readonly createdAt: number
  readonly handshakeHash: Uint8Array
  /** an authenticated packet has arrived on these keys (key confirmation, noise.md §4) */
  receivedAny = false
  readonly #send: CipherState
  readonly #receive: CipherState
  readonly #replay = new ReplayWindow()
  #destroyed = false

  constructor (init: KeysInit, keys: HandshakeKeys) {
    this.localIndex = init.localIndex
    this.remoteIndex = init.remoteIndex
    this.initiator = init.initiator
    this.createdAt = init.createdAt
    this.handshakeHash = keys.handshakeHash
    this.#send = keys.send
    this.#receive = keys.receive
  }

  /** Packets sent so far (= the next counter). */
  get sent (): bigint {
    return this.#send.nonce
  }

  /** wire.md §7: nothing is sent or accepted after REJECT_AFTER_MS or past the last counter. */
  usable (now: number, rejectAfterMs = REJECT_AFTER_MS): boolean {
    return !this.#destroyed && now - this.createdAt < rejectAfterMs && this.#send.nonce <= MAX_COUNTER
  }

  /** TRANSPORT_DATA (or SESSION_CLOSE, empty plaintext) with the next counter; wire.md §4.6. */
  seal (plaintext: Uint8Array, type: typeof PacketType.TRANSPORT_DATA | typeof PacketType.SESSION_CLOSE = PacketType.TRANSPORT_DATA): Uint8Array {
    // a wiped CipherState would "encrypt" as the identity function (Noise §5.1 without k)
    if (this.#destroyed) throw errors.NOISE_STATE('session keys were destroyed')
    // one buffer: the header is written in place and is also the AAD (wire.md §4.6); every
    // byte is written below: 14 header bytes, then exactly plaintext.length + 16 bytes of
    // ciphertext ‖ tag
    const out = carve(TRANSPORT_DATA_HEADER_BYTES + plaintext.length + AEAD_TAG_BYTES)
    const header = out.subarray(0, TRANSPORT_DATA_HEADER_BYTES)
    writeTransportDataHeader(header, this.remoteIndex, this.#send.nonce, type)
    this.#send.encryptWithAdInto(header, plaintext, out.subarray(TRANSPORT_DATA_HEADER_BYTES)) // advances the counter
    return out
  }

  /**
   * Authenticate and decrypt a TRANSPORT_DATA or SESSION_CLOSE datagram addressed to us.
   * noise.md §3: check the window, decrypt at the packet's counter, only then mark it seen.
   */
  open (datagram: Uint8Array, counter: bigint, ciphertext: Uint8Array, now: number, rejectAfterMs = REJECT_AFTER_MS): Uint8Array | OpenFailure {
    if (this.#destroyed || now - this.createdAt >= rejectAfterMs) return 'expired'
    if (!this.#replay.check(counter)) return 'replay'
    this.#receive.setNonce(counter)
    const plaintext = this.#receive.tryDecryptWithAd(datagram.subarray(0, TRANSPORT_DATA_HEADER_BYTES), ciphertext)
    if (plaintext === null) return 'decrypt-failed'
    this.#replay.commit(counter)
    this.receivedAny = true
    return plaintext
  }

  /** Forget both keys (best effort; noise.md §3). */
  destroy (): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#send.wipe()
    this.#receive.wipe()
    wipe(this.handshakeHash)
  }
}
