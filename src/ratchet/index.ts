// The Double Ratchet core (proto-spec/ratchet.md): pure functions over a serialisable state.
export { initAlice, initBob, ratchetEncrypt, ratchetDecrypt, generateKeyPairs, type NextKeyPairs, type TakeKeyPairs, type RandomBytes, type DecryptResult, type DecryptFailure, type DecryptOptions, type WorkMeter } from './ratchet.js'
export { encodeState, decodeState, disposeState, type RatchetState, type SkippedKey } from './state.js'
export * as ratchetConstants from './constants.js'
