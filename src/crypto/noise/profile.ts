// The Noise protocols dmess speaks on the wire (proto-spec/noise.md): XX when we do not know the
// peer's static key yet, IK when we do. Changing any of these is a wire-protocol version change.
import { utf8 } from '../primitives.js'

export const NOISE_XX = 'Noise_XX_25519_ChaChaPoly_BLAKE2b'
export const NOISE_IK = 'Noise_IK_25519_ChaChaPoly_BLAKE2b'
/** Noise §6 prologue: both sides must use it or the first authenticated message fails. */
export const NOISE_PROLOGUE: Uint8Array = utf8.encode('dmess/1')
