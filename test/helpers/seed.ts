// Seeds for randomized tests. Every fuzzer and random-input test takes its seed from here: the
// seed is printed as `# seed=0x…` (t.comment), and DMESS_TEST_SEED replaces it, so a failure
// replays exactly: `DMESS_TEST_SEED=0x1f2e npx tap test/wire/packet.test.ts`. Without the
// variable each test keeps its own fixed seed, so CI runs the same inputs every time.
import { createRng, type Rng } from '../../src/sim/rng.js'

interface Commenter { comment: (...args: unknown[]) => void }

/** DMESS_TEST_SEED as a 32-bit seed (decimal or 0x hex), or undefined when unset. */
export function seedOverride (env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.DMESS_TEST_SEED?.trim()
  if (v === undefined || v === '') return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff_ffff) throw new Error(`DMESS_TEST_SEED must be a 32-bit unsigned integer, got ${JSON.stringify(v)}`)
  return n
}

/** The seed to use: DMESS_TEST_SEED when set, else `fixed`; printed either way. */
export function testSeed (t: Commenter, fixed: number, what = 'random inputs'): number {
  const override = seedOverride()
  const seed = (override ?? fixed) >>> 0
  t.comment(`seed=0x${seed.toString(16)} (${what}${override === undefined ? '' : ', from DMESS_TEST_SEED'}); replay: DMESS_TEST_SEED=0x${seed.toString(16)}`)
  return seed
}

/** A seeded generator (src/sim/rng.ts) for random test inputs, its seed printed. */
export function testRng (t: Commenter, fixed: number, what?: string): Rng {
  return createRng(testSeed(t, fixed, what))
}
