// Keystore cost with the DEFAULT (OWASP) Argon2id parameters: what a user waits for at `dmess init`
// (create) and at every unlock. One JSON line per metric (median of RUNS).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createKeystore, openKeystore, DEFAULT_KDF } from '../../src/keystore/index.js'

const RUNS = 5
const PASSPHRASE = 'correct horse battery staple'

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

async function timeMs (fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}

export async function run (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-bench-ks-'))
  try {
    const path = join(dir, 'identity.keystore')
    const secrets = { 'identity.ed25519': new Uint8Array(32).fill(1), 'identity.x25519': new Uint8Array(32).fill(2), 'store.key': new Uint8Array(32).fill(3) }
    const create: number[] = []
    const unlock: number[] = []
    for (let i = 0; i < RUNS; i++) {
      create.push(await timeMs(() => createKeystore(path, PASSPHRASE, secrets, { overwrite: true })))
      unlock.push(await timeMs(() => openKeystore(path, PASSPHRASE)))
    }
    const params = { ...DEFAULT_KDF, runs: RUNS }
    console.log(JSON.stringify({ metric: 'keystore_unlock_ms', value: round(median(unlock)), params }))
    console.log(JSON.stringify({ metric: 'keystore_create_ms', value: round(median(create)), params }))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function round (x: number): number {
  return Math.round(x * 10) / 10
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run()
