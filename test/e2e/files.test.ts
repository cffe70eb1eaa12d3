// File transfer between two real daemons over loopback, through the built CLI
// (proto-spec/files.md): sizes around the 32 KiB chunk and a 20 MB file arrive byte for byte in
// the configured download directory; a directory is refused with one line; `dmess files --json`
// shows the counters. Then the sender is killed with SIGKILL mid-transfer (and its first run
// corrupts one chunk through the test hook): after its restart the transfer completes, the bad
// chunk refused and fetched again, no held chunk sent twice. Then the receiver is killed with
// SIGKILL mid-transfer: after its restart it asks only for the chunks its record lacks (those
// since its last sync, files.md §5.1), each received once, and the file is byte for byte. Protocol behaviour beyond this
// (strangers, offers that wait, a full disk, chat during a transfer) is on the simulated
// testnet: test/files/sim.test.ts. The 100 MB / 1 GB figures are a benchmark (npm run bench -- files).
import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { cli, cliJson, cliResult, crash, daemonPid, ipcCall, makeNodes, PW, startDaemon, waitFor, type Node } from './helpers.js'
import { testRng } from '../helpers/seed.js'
import { isProcessAlive } from '../../src/daemon/lock.js'
import type { TransferJson } from '../../src/files/transfer.js'

t.setTimeout(600_000)

const CHUNK = 32768
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

async function setup (t: Test, names: [string, string], autoAcceptBytes = 64 * 1024 * 1024): Promise<{ alice: Node, bob: Node, dir: string, dl: string }> {
  const [alice, bob] = await makeNodes(t, names) as [Node, Node]
  const dir = await mkdtemp(join(tmpdir(), 'dmess-files-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const dl = join(dir, 'downloads')
  await cli(bob, ['config', 'set', 'downloadDir', dl])
  await cli(bob, ['config', 'set', 'autoAcceptBytes', String(autoAcceptBytes)])
  return { alice, bob, dir, dl }
}

async function transfer (node: Node, id: string): Promise<TransferJson | undefined> {
  return (await ipcCall(node, 'files.list', {})).find(x => x.id === id)
}

async function befriend (alice: Node, bob: Node): Promise<void> {
  await cli(alice, ['contacts', 'add', bob.invite])
  await cli(bob, ['contacts', 'add', alice.invite])
}

interface Pair { alice: Node, bob: Node, dir: string, dl: string, alicePid: number, bobPid: number }
let pair: Promise<Pair> | undefined
/**
 * The first and the last subtest share one pair of daemons (a daemon start and its `dmess
 * daemon --detach` cost ~1 s of CPU): their transfers are told apart by id, and the last one
 * kills and restarts both daemons itself. Started on first use, stopped when the file ends.
 */
async function sharedPair (): Promise<Pair> {
  pair ??= (async () => {
    const { alice, bob, dir, dl } = await setup(t, ['alice', 'bob'])
    const alicePid = await startDaemon(t, alice, [bob])
    const bobPid = await startDaemon(t, bob, [alice])
    await befriend(alice, bob)
    return { alice, bob, dir, dl, alicePid, bobPid }
  })()
  return await pair
}

t.test('0 B to 20 MB arrive byte for byte; a directory is refused; files --json shows counters', async t => {
  const rng = testRng(t, 0xf1e5)
  const { alice, bob, dir, dl } = await sharedPair()

  const sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 20_000_000]
  const paths: string[] = []
  const want = new Map<string, string>()
  for (const size of sizes) {
    const p = join(dir, `f-${size}.bin`)
    const data = rng.bytes(size)
    await writeFile(p, data)
    paths.push(p)
    want.set(`f-${size}.bin`, sha(data))
  }
  const refused = await cliResult(alice, ['send', 'bob', '--file', paths[1] as string, '--file', dir])
  t.not(refused.code, 0, 'a directory among the files: non-zero exit')
  t.match(refused.stderr, /is a directory/, 'with a clear message')
  t.notMatch(refused.stderr, /\n\s+at /, 'and no stack trace')
  t.same(await ipcCall(alice, 'files.list', {}), [], 'and nothing offered')

  const sent = await cliJson<{ files: TransferJson[] }>(alice, ['send', 'bob', ...paths.flatMap(p => ['--file', p])])
  t.equal(sent.files.length, sizes.length, 'one transfer per --file')
  const ids = sent.files.map(f => f.id)
  await waitFor(async () => {
    const list = await ipcCall(bob, 'files.list', {})
    return ids.every(id => list.find(x => x.id === id)?.state === 'done')
  }, 300_000, () => 'every file done at Bob')
  const got = await cliJson<TransferJson[]>(bob, ['files'])
  for (const [k, size] of sizes.entries()) {
    const tr = got.find(x => x.id === ids[k]) as TransferJson
    t.equal(tr.path, join(dl, `f-${size}.bin`), `${size} B placed under its name`)
    t.equal(sha(await readFile(tr.path as string)), want.get(`f-${size}.bin`), `${size} B byte for byte`)
    t.equal(tr.chunkBytesReceived, size, `${size} B: every chunk received once`)
  }
  await waitFor(async () => (await ipcCall(alice, 'files.list', {})).every(x => x.state === 'done'), 60_000, () => 'Alice sees every transfer done')
  const text = await cli(bob, ['files'])
  t.match(text, /f-20000000\.bin {2}done {2}100% of 19 MiB/, 'dmess files shows state and progress')
})

t.test('SIGKILL of the sender mid-transfer; a corrupted chunk; after the restart only missing chunks come', async t => {
  const rng = testRng(t, 0x5ec)
  const { alice, bob, dir } = await setup(t, ['alice2', 'bob2'], 1024 * 1024) // above 1 MiB Bob is asked
  // Alice's first daemon corrupts chunk 2 once (the hook is honoured only under the test runner)
  const args = ['daemon', '--detach', '--host', '127.0.0.1', '--port', String(alice.port), '--no-mdns', '--peer', `${bob.fingerprint}@127.0.0.1:${bob.port}`, '--home', alice.home]
  const r = await runCliInProcess(args, { env: { ...PW, DMESS_TEST_CORRUPT_CHUNK: '2' } }) // the daemon it starts inherits the variable
  t.equal(r.code, 0, r.stderr)
  const alicePid = await daemonPid(alice)
  t.teardown(() => { if (isProcessAlive(alicePid)) process.kill(alicePid, 'SIGKILL') }) // the first daemon, if the test ends before the kill
  await startDaemon(t, bob, [alice])
  await befriend(alice, bob)

  const size = 20_000_000
  const data = rng.bytes(size)
  const p = join(dir, 'big.bin')
  await writeFile(p, data)
  const [offer] = (await cliJson<{ files: TransferJson[] }>(alice, ['send', 'bob2', '--file', p])).files as [TransferJson]
  await waitFor(async () => (await transfer(bob, offer.id))?.state === 'offered', 60_000, () => 'the offer at Bob')
  const wrong = await cliResult(bob, ['files', 'accept', 'ffffffffffff'])
  t.not(wrong.code, 0, 'accepting an unknown transfer fails')
  t.match(wrong.stderr, /^Error: no transfer ffffffffffff\n$/, 'with one line')
  t.match(await cli(bob, ['files', 'accept', offer.id.slice(0, 8)]), /big\.bin: active/, 'dmess files accept <id prefix>')
  await waitFor(async () => ((await transfer(bob, offer.id))?.bytesDone ?? 0) > size / 4, 300_000, () => 'a quarter received')
  await crash(alicePid)
  const mid = await transfer(bob, offer.id) as TransferJson
  t.equal(mid.state, 'active', 'Bob still holds the transfer active while Alice is down')
  t.ok(mid.bytesDone < size, `${mid.bytesDone} of ${size} bytes when Alice died`)

  await startDaemon(t, alice, [bob])
  // active, or done already: the 15 MB left may go through between her start and this look
  t.match((await transfer(alice, offer.id))?.state, /^(active|done)$/, 'Alice\'s transfer survived the kill')
  await waitFor(async () => (await transfer(bob, offer.id))?.state === 'done', 300_000, () => 'the transfer done after the restart')
  const done = await transfer(bob, offer.id) as TransferJson
  t.equal(sha(await readFile(done.path as string)), sha(data), 'byte for byte')
  t.equal(done.badChunks, 1, 'the corrupted chunk failed its proof')
  t.equal(done.duplicateChunks, 0, 'no chunk Bob held was sent again')
  t.equal(done.chunkBytesReceived, size + CHUNK, 'every chunk received once, the corrupted one twice')

  // offers above autoAcceptBytes: declined by Bob, cancelled by Alice
  const two = join(dir, 'two.bin')
  await writeFile(two, rng.bytes(2 * 1024 * 1024))
  const [a, b] = (await cliJson<{ files: TransferJson[] }>(alice, ['send', 'bob2', '--file', two, '--file', two])).files as [TransferJson, TransferJson]
  await waitFor(async () => (await transfer(bob, a.id))?.state === 'offered' && (await transfer(bob, b.id))?.state === 'offered', 60_000, () => 'both offers at Bob')
  t.match(await cli(bob, ['files', 'decline', a.id]), /two\.bin: declined/)
  t.match(await cli(alice, ['files', 'cancel', b.id]), /two\.bin: cancelled/)
  await waitFor(async () => (await transfer(alice, a.id))?.state === 'declined' && (await transfer(bob, b.id))?.state === 'cancelled', 60_000, () => 'each side told')
  t.pass('a decline reaches the sender, a cancel the receiver')
})

t.test('SIGKILL of the receiver mid-transfer: after its restart only the chunks it had not synced come again', async t => {
  const rng = testRng(t, 0x4ec)
  const { alice, bob, dir, alicePid, bobPid } = await sharedPair()

  const size = 12_000_000
  const data = rng.bytes(size)
  const p = join(dir, 'big.bin')
  await writeFile(p, data)
  const [offer] = (await cliJson<{ files: TransferJson[] }>(alice, ['send', 'bob', '--file', p])).files as [TransferJson]
  // a third received, and some of it synced and recorded (savedBytes: what survives the kill), so
  // the restart must resume from held chunks; waiting for the record, not guessing that one sync's
  // worth (64 chunks, 2 MiB) has reached the disk by then, which a loaded disk breaks
  await waitFor(async () => {
    const now = await transfer(bob, offer.id)
    return (now?.bytesDone ?? 0) > size / 3 && (now?.savedBytes ?? 0) > 0
  }, 300_000, () => 'a third received, some of it saved')
  const saved = (await transfer(bob, offer.id) as TransferJson).savedBytes
  await crash(bobPid)
  // Alice is stopped while Bob is down, so that what Bob's record holds can be read after his
  // restart before anything more arrives: then every byte received later is counted exactly
  await cli(alice, ['stop'])
  await waitFor(async () => !isProcessAlive(alicePid), 30_000, () => 'Alice\'s daemon stopped')

  await startDaemon(t, bob, [alice])
  const resumed = await transfer(bob, offer.id) as TransferJson
  t.equal(resumed.state, 'active', 'Bob\'s transfer survived the kill')
  t.ok(resumed.bytesDone >= saved && resumed.bytesDone < size, `the synced chunks are still held (${resumed.bytesDone} of ${size} bytes, ${saved} saved before the kill)`)

  await startDaemon(t, alice, [bob])
  await waitFor(async () => (await transfer(bob, offer.id))?.state === 'done', 300_000, () => 'the transfer done after the restart')
  const done = await transfer(bob, offer.id) as TransferJson
  t.equal(sha(await readFile(done.path as string)), sha(data), 'byte for byte')
  t.equal(done.duplicateChunks, 0, 'no chunk Bob held was sent again')
  t.equal(done.badChunks, 0, 'no chunk failed its proof')
  t.equal(done.chunkBytesReceived - resumed.chunkBytesReceived, size - resumed.bytesDone, 'after the restart, exactly the chunks Bob lacked, each once')
})
