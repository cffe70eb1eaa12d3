// Noise Protocol Framework engine (revision 34), pure: no I/O. See proto-spec/noise.md.
export { HandshakeState, DEFAULT_SUITE } from './handshake-state.js'
export type { HandshakeOptions, TransportCipherStates, NextAction } from './handshake-state.js'
export { CipherState } from './cipher-state.js'
export { SymmetricState, hkdf } from './symmetric-state.js'
export {
  parseProtocolName, parseSuite, isSupported, chachaNonce, MAX_MESSAGE_BYTES, MAX_NONCE, TAG_BYTES
} from './suites.js'
export type { NoiseProtocol, CipherSuite, DhFunctions, CipherFunctions, HashFunctions } from './suites.js'
export { PATTERN_NAMES, getPattern, parsePattern, requiredKeys } from './patterns.js'
export type { HandshakePattern, Token, DhToken } from './patterns.js'
export { NOISE_XX, NOISE_IK, NOISE_PROLOGUE } from './profile.js'
