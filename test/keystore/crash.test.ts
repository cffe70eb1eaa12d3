// A real process changing the passphrase is SIGKILLed at varied moments; afterwards the keystore
// must open with exactly one of the two passphrases (proto-spec/keystore.md §5: atomic replace).
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDmessError } from '../../src/errors.js'
import { createKeystore, openKeystore } from '../../src/keystore/index.js'
import { bundledFixture } from '../helpers/bundled-fixture.js'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..', '..')
const fixture = join(here, 'fixtures', 'change-loop.ts')
const ROUNDS = 20
const PASS_A = 'first passphrase'
const PASS_B = 'second passphrase'
const SECRETS = { 'identity.ed25519': new Uint8Array(32).fill(0xab) }

interface RunResult { changes: number, killed: boolean, changeMs: number }

/**
 * Starts the loop and kills it `fraction` × 3 change-durations after its first completed change
 * (so the timing follows the machine's load), resolves when it is gone.
 */
async function runAndKill (path: string, fraction: number): Promise<RunResult> {
  // plain JavaScript (test/helpers/bundled-fixture.ts): a third of the CPU of `--import tsx` per start
  const child = spawn(process.execPath, [await bundledFixture(fixture), path, PASS_A, PASS_B], {
    cwd: repo, stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  let changeMs = 0
  let timer: NodeJS.Timeout | undefined
  const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('close', (_code, signal) => resolve(signal)))
  child.stdout.on('data', (chunk: Buffer) => {
    const first = out === ''
    out += chunk.toString()
    if (!first) return
    changeMs = Number(/^changed 1 ([\d.]+)/.exec(out)?.[1] ?? 20)
    timer = setTimeout(() => child.kill('SIGKILL'), fraction * 3 * changeMs)
  })
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000) // bound: never outlive the test
  const signal = await exited
  clearTimeout(guard)
  clearTimeout(timer)
  return { changes: (out.match(/^changed /gm) ?? []).length, killed: signal === 'SIGKILL', changeMs }
}

async function opensWith (path: string, pass: string): Promise<boolean> {
  try {
    t.same(await openKeystore(path, pass), SECRETS, 'secrets intact')
    return true
  } catch (err) {
    if (isDmessError(err) && err.code === 'WRONG_PASSPHRASE') return false
    throw err // truncated, corrupt or a crash: the atomicity promise is broken
  }
}

t.test('SIGKILL during changePassphrase never leaves a keystore that neither passphrase opens', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-ks-crash-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'identity.keystore')
  await createKeystore(path, PASS_A, SECRETS, { kdf: { t: 1, m: 64, p: 1 } })
  const tally = { a: 0, b: 0, changes: 0, killedMidLoop: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    // kill times spread over three first-change durations (later changes are faster, so 1 to ~30
    // changes complete) in a scrambled order, so kills land at every
    // phase of a change: reading, deriving, writing the temp file, fsync, rename
    const fraction = (round * 37) % ROUNDS / ROUNDS
    const r = await runAndKill(path, fraction)
    tally.changes += r.changes
    if (r.killed) tally.killedMidLoop++
    const a = await opensWith(path, PASS_A)
    const b = await opensWith(path, PASS_B)
    t.ok(a !== b, `round ${round} (${(fraction * 3 * r.changeMs).toFixed(0)} ms, ${r.changes} changes): opens with exactly one passphrase`)
    if (a) tally.a++; else tally.b++
    const stray = (await readdir(dir)).filter(f => f !== 'identity.keystore' && !/^\.identity\.keystore\.[0-9a-f]{12}\.tmp$/.test(f))
    t.same(stray, [], 'nothing but the keystore and abandoned temp files')
  }
  t.comment(`tally: ${JSON.stringify(tally)}`)
  t.equal(tally.killedMidLoop, ROUNDS, 'every child was killed while still changing')
})
