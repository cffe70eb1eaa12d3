// Noise §5.3 HandshakeState: runs one handshake pattern (§7) for one party. Pure: bytes in,
// bytes out; randomness is passed in. After the last handshake message the state holds the two
// transport CipherStates from Split() and the handshake hash.
//
// Failure model: readMessage() throws a DmessError (NOISE_DECRYPT, NOISE_BAD_MESSAGE) when the
// peer's message does not authenticate or is malformed; the state is then dead (its secrets are
// wiped and every later call throws NOISE_STATE). The caller drops the handshake and counts it.
import { wipe, type DhKeyPair, type KeyPair } from '../primitives.js'
import { DmessError, errors } from '../../errors.js'
import { CipherState } from './cipher-state.js'
import { SymmetricState } from './symmetric-state.js'
import { requiredKeys, type DhToken, type HandshakePattern, type Token } from './patterns.js'
import { MAX_MESSAGE_BYTES, TAG_BYTES, parseProtocolName, type NoiseProtocol } from './suites.js'

export const DEFAULT_SUITE = '25519_ChaChaPoly_BLAKE2b'
const EMPTY = new Uint8Array(0)

export interface HandshakeOptions {
  /** Full name, e.g. "Noise_XX_25519_ChaChaPoly_BLAKE2b"; or give `pattern` (+ `suite`). */
  protocolName?: string
  pattern?: string
  /** "DH_CIPHER_HASH"; default 25519_ChaChaPoly_BLAKE2b. */
  suite?: string
  initiator: boolean
  /** §6: data both sides must agree on; mixed into h before any message. */
  prologue?: Uint8Array
  /** Local static key pair (not wiped: the caller owns it). */
  s?: KeyPair
  /** Remote static public key known in advance (pre-message `s`, e.g. the responder in IK). */
  rs?: Uint8Array
  /** Fixed ephemeral key pair, FOR TEST VECTORS ONLY: a reused ephemeral breaks forward secrecy. */
  e?: KeyPair
  /** Source of randomness for ephemeral keys (default: the system CSPRNG). */
  randomBytes?: (n: number) => Uint8Array
}

export interface TransportCipherStates { send: CipherState, receive: CipherState }

export type NextAction = 'write' | 'read' | 'done' | 'failed'

export class HandshakeState {
  readonly protocol: NoiseProtocol
  readonly protocolName: string
  readonly initiator: boolean
  readonly #pattern: HandshakePattern
  readonly #random: ((n: number) => Uint8Array) | undefined
  readonly #s: KeyPair | null
  readonly #ss: SymmetricState
  #e: DhKeyPair | null
  #rs: Uint8Array | null
  #re: Uint8Array | null = null
  #index = 0
  #failed = false
  #split: [CipherState, CipherState] | null = null
  #h: Uint8Array | null = null

  constructor (opts: HandshakeOptions) {
    this.protocol = resolveProtocol(opts)
    this.protocolName = this.protocol.name
    this.#pattern = this.protocol.pattern
    this.initiator = opts.initiator
    this.#random = opts.randomBytes
    const need = requiredKeys(this.#pattern, opts.initiator)
    this.#s = need.s ? checkKeyPair(opts.s, 's', this.protocolName, this.#dhLen) : null
    this.#rs = need.rs ? checkPublic(opts.rs, 'rs', this.protocolName, this.#dhLen).slice() : null
    if (!need.rs && opts.rs !== undefined) {
      throw errors.BAD_ARGUMENT(`${this.protocolName}: rs is only for patterns where the peer's static key is a pre-message; this one sends it`)
    }
    this.#e = opts.e === undefined ? null : copyKeyPair(checkKeyPair(opts.e, 'e', this.protocolName, this.#dhLen))
    this.#ss = new SymmetricState(this.protocol.suite, this.protocolName)
    this.#ss.mixHash(opts.prologue ?? EMPTY) // §5.3 Initialize(): MixHash(prologue)
    this.#mixPreMessages()
  }

  get #dhLen (): number {
    return this.protocol.suite.dh.dhLen
  }

  /** True once the last handshake message has been written or read. */
  get complete (): boolean {
    return this.#split !== null
  }

  /** What the caller should do next. */
  get nextAction (): NextAction {
    if (this.#failed) return 'failed'
    if (this.complete) return 'done'
    return (this.#index % 2 === 0) === this.initiator ? 'write' : 'read'
  }

  /** The peer's static public key once known (pre-message or received); null if unknown or failed. */
  get remoteStatic (): Uint8Array | null {
    return this.#rs === null || this.#failed ? null : this.#rs.slice()
  }

  /** §5.2 GetHandshakeHash() after completion (for channel binding, §11.2), else null. */
  get handshakeHash (): Uint8Array | null {
    return this.#h === null ? null : this.#h.slice()
  }

  getHandshakeHash (): Uint8Array {
    const h = this.handshakeHash
    if (h === null) throw errors.NOISE_STATE(`${this.protocolName}: handshake hash is only final after the handshake`)
    return h
  }

  /** The two CipherStates of §5.2 Split(): [initiator→responder, responder→initiator]. */
  split (): [CipherState, CipherState] {
    if (this.#split === null) throw errors.NOISE_STATE(`${this.protocolName}: handshake not complete`)
    return this.#split
  }

  /**
   * This party's view of split(): send and receive. For one-way patterns (§7.4) only the
   * initiator's `send` / the responder's `receive` may be used.
   */
  get cipherStates (): TransportCipherStates | null {
    if (this.#split === null) return null
    const [c1, c2] = this.#split
    return this.initiator ? { send: c1, receive: c2 } : { send: c2, receive: c1 }
  }

  /** §5.3 WriteMessage(payload): returns the handshake message to send. */
  writeMessage (payload: Uint8Array = EMPTY): Uint8Array {
    this.#checkTurn('write')
    const tokens = this.#tokens()
    const size = this.#messageSize(tokens, payload.length)
    if (size > MAX_MESSAGE_BYTES) {
      throw errors.NOISE_TOO_LARGE(`${this.protocolName}: handshake message ${this.#index + 1} would be ${size} bytes, limit ${MAX_MESSAGE_BYTES} (§3)`)
    }
    return this.#guard(() => this.#write(tokens, payload))
  }

  /** §5.3 ReadMessage(message): returns the payload, or throws (and the state is dead). */
  readMessage (message: Uint8Array): Uint8Array {
    this.#checkTurn('read')
    return this.#guard(() => this.#read(this.#tokens(), message))
  }

  /** Abandon the handshake: wipe its secrets (later calls throw). Transport states are the caller's. */
  destroy (): void {
    if (!this.complete) this.#failed = true
    if (this.#e !== null) wipe(this.#e.secretKey)
    this.#e = null
    this.#ss.wipe()
  }

  // §7.1 pre-messages: initiator's keys first, then the responder's; only `s` is allowed
  #mixPreMessages (): void {
    for (const [tokens, ofInitiator] of [[this.#pattern.initiatorPre, true], [this.#pattern.responderPre, false]] as const) {
      for (const t of tokens) {
        const key = ofInitiator === this.initiator ? this.#s?.publicKey : this.#rs
        if (t !== 's' || key == null) throw errors.NOISE_UNSUPPORTED(`${this.protocolName}: pre-message token ${t}`)
        this.#ss.mixHash(key)
      }
    }
  }

  #tokens (): readonly Token[] {
    return this.#pattern.messages[this.#index] as readonly Token[]
  }

  #checkTurn (want: 'write' | 'read'): void {
    const next = this.nextAction
    if (next === want) return
    if (next === 'failed') throw errors.NOISE_STATE(`${this.protocolName}: handshake failed earlier; start a new one`)
    if (next === 'done') throw errors.NOISE_STATE(`${this.protocolName}: handshake is complete; use the transport CipherStates`)
    throw errors.NOISE_STATE(`${this.protocolName}: expected to ${next} handshake message ${this.#index + 1}, not ${want} it`)
  }

  /** Any failure mid-message leaves h/ck half-updated: kill the state (the caller drops it). */
  #guard<T> (step: () => T): T {
    try {
      return step()
    } catch (err) {
      this.#failed = true
      this.destroy()
      if (err instanceof DmessError && err.code === 'CRYPTO') {
        throw errors.NOISE_BAD_MESSAGE(`${this.protocolName}: peer public key rejected (${err.message})`)
      }
      throw err
    }
  }

  /** Exact size of the message we are about to write (checked against §3 before any state change). */
  #messageSize (tokens: readonly Token[], payloadBytes: number): number {
    let keyed = this.#ss.hasKey()
    let size = 0
    for (const t of tokens) {
      if (t === 'e') size += this.#dhLen
      else if (t === 's') size += this.#dhLen + (keyed ? TAG_BYTES : 0)
      else keyed = true
    }
    return size + payloadBytes + (keyed ? TAG_BYTES : 0)
  }

  #write (tokens: readonly Token[], payload: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = []
    for (const t of tokens) {
      if (t === 'e') {
        this.#e ??= this.#generateEphemeral()
        parts.push(this.#e.publicKey.slice())
        this.#ss.mixHash(this.#e.publicKey)
      } else if (t === 's') {
        parts.push(this.#ss.encryptAndHash((this.#s as KeyPair).publicKey))
      } else {
        this.#mixDh(t)
      }
    }
    parts.push(this.#ss.encryptAndHash(payload))
    this.#advance()
    return concat(parts)
  }

  #read (tokens: readonly Token[], message: Uint8Array): Uint8Array {
    if (message.length > MAX_MESSAGE_BYTES) throw errors.NOISE_BAD_MESSAGE(`${this.protocolName}: message of ${message.length} bytes exceeds ${MAX_MESSAGE_BYTES}`)
    let offset = 0
    const take = (n: number, what: string): Uint8Array => {
      if (message.length - offset < n) {
        throw errors.NOISE_BAD_MESSAGE(`${this.protocolName}: handshake message ${this.#index + 1} truncated: ${what} needs ${n} bytes, ${message.length - offset} left`)
      }
      offset += n
      return message.subarray(offset - n, offset)
    }
    for (const t of tokens) {
      if (t === 'e') {
        this.#re = take(this.#dhLen, 'ephemeral key').slice()
        this.#ss.mixHash(this.#re)
      } else if (t === 's') {
        const len = this.#dhLen + (this.#ss.hasKey() ? TAG_BYTES : 0)
        this.#rs = this.#ss.decryptAndHash(take(len, 'static key'))
      } else {
        this.#mixDh(t)
      }
    }
    const rest = take(message.length - offset, 'payload')
    if (this.#ss.hasKey() && rest.length < TAG_BYTES) take(TAG_BYTES, 'payload tag')
    const payload = this.#ss.decryptAndHash(rest)
    this.#advance()
    return payload
  }

  /** §5.3 token processing: es = DH(e, rs) for the initiator but DH(s, re) for the responder; se mirrors it. */
  #mixDh (t: DhToken): void {
    const [local, remote] = this.#dhOperands(t)
    if (local === null || remote === null) throw errors.NOISE_STATE(`${this.protocolName}: ${t} before its keys are known`)
    this.#ss.mixKey(this.protocol.suite.dh.dh(local.secretKey, remote))
  }

  #dhOperands (t: DhToken): [DhKeyPair | null, Uint8Array | null] {
    switch (t) {
      case 'ee': return [this.#e, this.#re]
      case 'ss': return [this.#s, this.#rs]
      case 'es': return this.initiator ? [this.#e, this.#rs] : [this.#s, this.#re]
      case 'se': return this.initiator ? [this.#s, this.#re] : [this.#e, this.#rs]
    }
  }

  #generateEphemeral (): DhKeyPair {
    // An injected random source (tests) goes through keyPairFromSecret; otherwise OpenSSL's keygen.
    if (this.#random) return this.protocol.suite.dh.keyPairFromSecret(this.#random(this.#dhLen))
    return this.protocol.suite.dh.generateKeyPair()
  }

  #advance (): void {
    this.#index++
    if (this.#index < this.#pattern.messages.length) return
    this.#h = this.#ss.getHandshakeHash()
    this.#split = this.#ss.split() // wipes ck and the handshake cipher key
    this.destroy()
  }
}

function resolveProtocol (opts: HandshakeOptions): NoiseProtocol {
  if (opts.protocolName !== undefined) return parseProtocolName(opts.protocolName)
  if (opts.pattern === undefined) throw errors.BAD_ARGUMENT('HandshakeState needs protocolName, or pattern (+ suite)')
  return parseProtocolName(`Noise_${opts.pattern}_${opts.suite ?? DEFAULT_SUITE}`)
}

function checkPublic (key: Uint8Array | undefined, what: string, name: string, len: number): Uint8Array {
  if (key === undefined) throw errors.NOISE_MISSING_KEY(`${name}: this side needs ${what} (a ${len}-byte public key)`)
  if (key.length !== len) throw errors.NOISE_MISSING_KEY(`${name}: ${what} must be ${len} bytes, got ${key.length}`)
  return key
}

function checkKeyPair (kp: KeyPair | undefined, what: string, name: string, len: number): KeyPair {
  if (kp === undefined) throw errors.NOISE_MISSING_KEY(`${name}: this side needs its ${what} key pair`)
  checkPublic(kp.publicKey, `${what}.publicKey`, name, len)
  checkPublic(kp.secretKey, `${what}.secretKey`, name, len)
  return kp
}

function copyKeyPair (kp: KeyPair): KeyPair {
  return { publicKey: kp.publicKey.slice(), secretKey: kp.secretKey.slice() }
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}
