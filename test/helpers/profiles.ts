// Temp homes with a fresh identity: through the real `dmess init`, or the same initProfile in
// this process with cheap Argon2id parameters.
import { runCli, tempHome } from './cli.js'
import { initProfile } from '../../src/app/profile.js'
import { homePaths } from '../../src/config/home.js'

export const PW = { DMESS_PASSPHRASE: 'correct horse battery staple' }

/**
 * Argon2id parameters for test homes that are not about the KDF: the keystore header records
 * them (proto-spec/keystore.md §2), so every later unlock by the CLI or a daemon is cheap too
 * (~1 s less CPU per unlock than the real DEFAULT_KDF in src/keystore/seal.ts). Only tests pass
 * them; `dmess init` has no way to ask for them.
 */
export const TINY_KDF = { t: 1, m: 64, p: 1 }

/** A home made by the real `dmess init` (with the real KDF parameters). */
export async function initHome (t: Parameters<typeof tempHome>[0], name: string): Promise<{ home: string, fingerprint: string, invite: string }> {
  const home = await tempHome(t)
  const r = await runCli(['init', '--name', name, '--json', '--home', home], { env: PW })
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`)
  const j = JSON.parse(r.stdout) as { fingerprint: string, invite: string }
  return { home, ...j }
}

/**
 * A home as `dmess init --name <name>` makes it (commands/init.ts runs the same initProfile), made
 * in this process with TINY_KDF: for tests of what comes after init.
 */
export async function quickHome (t: Parameters<typeof tempHome>[0], name: string): Promise<{ home: string, fingerprint: string, invite: string }> {
  const home = await tempHome(t)
  const p = await initProfile(homePaths(home), PW.DMESS_PASSPHRASE, { name, kdf: TINY_KDF })
  return { home, fingerprint: p.fingerprint, invite: p.invite }
}
