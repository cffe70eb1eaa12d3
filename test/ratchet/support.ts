// Small shared bits of the ratchet tests.
import { isDmessError } from '../../src/errors.js'
export { x25519 } from '../../src/crypto/primitives.js'

/** True when fn throws a DmessError with this code. */
export function throwsCode (fn: () => unknown, code: string): boolean {
  try {
    fn()
    return false
  } catch (e) {
    return isDmessError(e) && e.code === code
  }
}
