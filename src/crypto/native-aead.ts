// Loads the optional native addon: ChaCha20-Poly1305 and HMAC-SHA-256 (native/chacha20poly1305.c:
// Node's own OpenSSL, one context kept instead of one per call; proto-spec/crypto-policy.md §3.1)
// and ML-KEM-768 (native/ml-kem768.c; crypto-policy.md §7).
// This is the adapter between primitives.ts and the disk: it finds the built addon beside the
// package, checks its ABI and says why when it cannot be used; primitives.ts then stays on
// node:crypto and ml-kem.ts on its TypeScript code. Byte-identical output either way, so two
// peers never need to agree on it.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The calls native/chacha20poly1305.c exports; every size is checked again in C. */
export interface NativeChaChaPoly {
  /** out (plaintext.length + 16 bytes) = ciphertext ‖ tag; aad may be empty, not absent */
  seal: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array) => void
  /** true with the plaintext in out (sealed.length - 16 bytes); false with out zeroed */
  open: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, out: Uint8Array) => boolean
  /** out (32 bytes) = HMAC-SHA-256(key, data) (RFC 2104); key and data may be empty */
  hmacSha256: (key: Uint8Array, data: Uint8Array, out: Uint8Array) => void
  abi: number
}

/** The ML-KEM-768 calls of native/ml-kem768-napi.c (FIPS 203); every size is checked again in C. */
export interface NativeMlKem768 {
  /** ML-KEM.KeyGen_internal(d ‖ z = seed, 64 bytes) into ek (1184) and dk (2400) */
  mlkem768Keygen: (seed: Uint8Array, ek: Uint8Array, dk: Uint8Array) => void
  /** the §7.2 check, then Encaps_internal(ek, m 32) into ct (1088) and ss (32); false if ek fails the check */
  mlkem768Encapsulate: (ek: Uint8Array, m: Uint8Array, ct: Uint8Array, ss: Uint8Array) => boolean
  /** the §7.3 check, then Decaps_internal(dk, ct) into ss (32); false if dk fails the check */
  mlkem768Decapsulate: (ct: Uint8Array, dk: Uint8Array, ss: Uint8Array) => boolean
}

/** Everything the one addon exports. */
export type NativeAddon = NativeChaChaPoly & NativeMlKem768

const ADDON_FILE = join('build', 'Release', 'dmess_chacha20poly1305.node')
const EXPECTED_ABI = 4 // ABI_VERSION in native/chacha20poly1305.c

export type NativeLoad = { ok: true, addon: NativeAddon } | { ok: false, reason: string }

/** build/Release/ of the package: two levels up from src/crypto/, three from dist/src/crypto/. */
export function nativeAddonPath (from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from
  for (let i = 0; i < 4; i++) {
    const p = join(dir, ADDON_FILE)
    if (existsSync(p)) return p
    dir = dirname(dir)
  }
  return undefined
}

/** The addon, or why not. DMESS_NATIVE=off in the environment keeps dmess on node:crypto. */
export function loadNativeChaChaPoly (env: NodeJS.ProcessEnv = process.env, locate: () => string | undefined = nativeAddonPath): NativeLoad {
  if (env.DMESS_NATIVE === 'off') return { ok: false, reason: 'turned off by DMESS_NATIVE=off' }
  const path = locate()
  if (path === undefined) return { ok: false, reason: `${ADDON_FILE} is not built (npm install builds it; it needs a C compiler)` }
  let exports: unknown
  try {
    // process.dlopen, not createRequire: an ESM process would otherwise start up the CommonJS
    // loader for this one file, ~0.35 MiB of RSS measured here (docs/performance.md §6)
    const holder = { exports: {} as unknown }
    process.dlopen(holder, path)
    exports = holder.exports
  } catch (err) {
    return { ok: false, reason: `${path} does not load: ${(err as Error).message.split('\n')[0] ?? ''}` }
  }
  return checkedAddon(exports, path)
}

let processLoad: NativeLoad | undefined

/** The addon as this process loaded it, once, for primitives.ts and ml-kem.ts alike. */
export function processNativeAddon (): NativeLoad {
  processLoad ??= loadNativeChaChaPoly()
  return processLoad
}

/** The loaded addon if it exports the calls this code expects (its ABI number matches). */
export function checkedAddon (exports: unknown, path: string): NativeLoad {
  const addon = exports as Partial<NativeAddon>
  const calls = [addon.seal, addon.open, addon.hmacSha256, addon.mlkem768Keygen, addon.mlkem768Encapsulate, addon.mlkem768Decapsulate]
  if (addon.abi !== EXPECTED_ABI || !calls.every(f => typeof f === 'function')) {
    return { ok: false, reason: `${path} is a stale build (ABI ${String(addon.abi)}, want ${EXPECTED_ABI}): run npm install` }
  }
  return { ok: true, addon: addon as NativeAddon }
}
