// PQXDH session start (proto-spec/pqxdh.md): prekeys, bundles, the key agreement, the prekey file.
export * from './constants.js'
export { isValidKemPublicKey, mlkem768, type KemKeyPair } from './kem.js'
export {
  encodeBundle, decodeBundle, encodeInitialMessage, decodeInitialMessage, encodeEC, encodeKEM,
  spkSignedMessage, pqspkSignedMessage, BUNDLE_BYTES, INITIAL_MESSAGE_BYTES,
  type PrekeyBundle, type InitialMessage, type PqxdhResult
} from './codec.js'
export { openBundle } from './bundle.js'
export {
  EMPTY_RING, createPrekeySet, prekeySetFrom, currentSet, findSet, bundleOf, rotatePrekeys, nextRotationAt,
  rememberInitial, hasSeen, wipePrekeySets, type KeyRandom, type PrekeySet, type PrekeyRing, type Rotation
} from './prekeys.js'
export { initiate, respond, pqxdhKdf, associatedData, type PqxdhSecrets, type Initiation, type Response } from './pqxdh.js'
export {
  prekeyFileKey, encodeRing, decodeRing, sealRing, openRing, loadPrekeyRing, savePrekeyRing, PREKEY_FILE_MODE, PREKEY_FILE_NAME
} from './prekey-file.js'
export { PrekeyService, PREKEY_CHECK_MAX_MS, type PrekeyServiceOptions } from './prekey-service.js'
