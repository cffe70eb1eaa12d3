// File transfer between whole nodes on the simulated testnet (proto-spec/files.md), in simulated
// time with files in memory (src/files/disk-memory.ts): sizes around the chunk size arrive byte
// for byte; a corrupted chunk is refused and fetched again; a receiver killed mid-transfer
// resumes from what it had synced; a sender killed mid-transfer is asked only for what is missing;
// strangers cannot push; big offers wait for the user; a full disk stops the transfer on both
// sides and it resumes once space is freed; chat goes on during a transfer, behind a bounded amount
// of file data.
import t, { type Test } from 'tap'
import { type TestNode } from '../../src/node/testnet.js'
import { MemoryFileDisk } from '../../src/files/disk-memory.js'
import type { TransferJson } from '../../src/files/transfer.js'
import type { NodeFileOptions } from '../../src/node/node.js'
import { testnet, received, receipted, talkingPair } from '../node/helpers.js'
import { testRng } from '../helpers/seed.js'
import { FILE_INFLIGHT_BYTES, REQUEST_STALL_MS, SYNC_EVERY_CHUNKS, SYNC_EVERY_MS, WRITE_RUN_BYTES } from '../../src/files/service.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'

const CHUNK = 32768
const TERMINAL_STATES = new Set(['done', 'declined', 'cancelled', 'failed'])

function bytesOf (rng: { bytes: (n: number) => Uint8Array }, n: number): Uint8Array { return rng.bytes(n) }
/** Byte equality without tap's deep compare (slow on megabytes). */
const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => a !== undefined && b !== undefined && Buffer.compare(a, b) === 0
const transfer = (n: TestNode, id: string): TransferJson | undefined => n.files.list().find(x => x.id === id)
const stateOf = (n: TestNode, id: string): string | undefined => transfer(n, id)?.state

async function pair (t: Test, seed: number, opts: Parameters<typeof testnet>[3] = {}): Promise<{ net: Awaited<ReturnType<typeof testnet>>, alice: TestNode, bob: TestNode, aDisk: MemoryFileDisk, bDisk: MemoryFileDisk }> {
  // a first message brings the link up (and proves both are contacts of each other)
  const { net, alice, bob } = await talkingPair(t, seed, opts, 'hi', 'the link up')
  return { net, alice, bob, aDisk: net.fileDisk(1) as MemoryFileDisk, bDisk: net.fileDisk(2) as MemoryFileDisk }
}

type Pair = Awaited<ReturnType<typeof pair>>

/** A pair (`seed`), and Alice sending Bob `size` random bytes (from `rngSeed`) from `path`. */
async function sending (t: Test, rngSeed: number, seed: number, size: number, path: string, opts: Parameters<typeof testnet>[3] = {}): Promise<Pair & { data: Uint8Array, id: string }> {
  const rng = testRng(t, rngSeed)
  const p = await pair(t, seed, opts)
  const data = bytesOf(rng, size)
  p.aDisk.files.set(path, data)
  const { id } = await p.net.drive(p.alice.files.send(p.bob.fingerprint, path))
  return { ...p, data, id }
}

t.test('sizes around the chunk size arrive byte for byte, each placed under its own name', async t => {
  const rng = testRng(t, 0xf17e)
  const { net, alice, bob, aDisk, bDisk } = await pair(t, 71)
  const sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 10 * CHUNK + 123]
  const ids: string[] = []
  for (const size of sizes) {
    aDisk.files.set(`/src/f${size}.bin`, bytesOf(rng, size))
    ids.push((await net.drive(alice.files.send(bob.fingerprint, `/src/f${size}.bin`))).id)
  }
  await net.until(() => ids.every(id => stateOf(alice, id) === 'done' && stateOf(bob, id) === 'done'), 300_000, 'every transfer done on both sides')
  for (const [k, id] of ids.entries()) {
    const got = transfer(bob, id) as TransferJson
    t.equal(got.path, `${net.nodes[2]!.opts.paths.home}/downloads/f${sizes[k] as number}.bin`)
    t.ok(same(bDisk.files.get(got.path as string), aDisk.files.get(`/src/f${sizes[k] as number}.bin`)), `${sizes[k] as number} bytes identical`)
    t.equal(got.chunkBytesReceived, sizes[k], 'each chunk received once')
  }
  // the same name again is never overwritten
  const again = await net.drive(alice.files.send(bob.fingerprint, '/src/f1.bin'))
  await net.until(() => stateOf(bob, again.id) === 'done', 60_000, 'the second f1.bin')
  t.match(transfer(bob, again.id)?.path, /downloads\/f1 \(1\)\.bin$/, 'a second file of one name gets "name (1).ext"')
})

t.test('a file whose every chunk the receiver verified and wrote itself is placed without reading it back', async t => {
  // the read-back of files.md §5.2 is for chunks an earlier process left on the disk; these were
  // verified in memory and written by this one, so reading them back would only reread its writes
  const { net, bob, bDisk, data, id } = await sending(t, 0x4eb, 76, 40 * CHUNK + 7, '/src/r')
  await net.until(() => stateOf(bob, id) === 'done', 120_000, 'the transfer done')
  t.ok(same(bDisk.files.get(transfer(bob, id)?.path as string), data), 'byte for byte')
  t.same([...bDisk.hashed.keys()], [], 'the partial file was not read back')
})

t.test('a corrupted chunk is refused, counted, and fetched again', async t => {
  const { net, bob, bDisk, data, id } = await sending(t, 0xbad, 72, 10 * CHUNK, '/src/x', { files: i => i === 1 ? { corruptChunk: 3 } : {} })
  await net.until(() => stateOf(bob, id) === 'done', 120_000, 'the transfer done')
  const got = transfer(bob, id) as TransferJson
  t.equal(got.badChunks, 1, 'one chunk failed its proof')
  t.equal(got.chunkBytesReceived, data.length + CHUNK, 'and was received twice')
  t.ok(same(bDisk.files.get(got.path as string), data), 'the file is right')
})

t.test('a source changed during the transfer fails it on both sides, nothing placed', async t => {
  // the sender hashes a chunk again only when it sends it again: the changed chunk fails its path
  // at the receiver, which asks for it again, and that second send finds the change
  const { net, alice, bob, bDisk, data, id } = await sending(t, 0x5c4a, 75, 80 * CHUNK, '/src/c')
  await net.until(() => (transfer(bob, id)?.bytesDone ?? 0) > 4 * CHUNK, 120_000, 'a few chunks received')
  data[70 * CHUNK + 9] = (data[70 * CHUNK + 9] as number) ^ 0x40 // in place: the sender reads the file as it is now
  await net.until(() => stateOf(alice, id) === 'failed' && stateOf(bob, id) === 'failed', 120_000, 'failed on both sides')
  t.equal(transfer(alice, id)?.reason, 'source changed')
  t.equal(transfer(bob, id)?.reason, 'peer: source changed')
  t.ok((transfer(bob, id)?.badChunks ?? 0) >= 1, 'the changed chunk was refused by the receiver')
  t.equal([...bDisk.files.keys()].filter(p => p.includes('/downloads/')).length, 0, 'nothing placed')
})

/**
 * Alice sends 100 chunks and a bit; Bob is killed (what his partial file had not synced is lost)
 * once more than one sync's worth has come, `beforeRestart` may alter his disk, and he restarts.
 */
async function receiverKilledMidTransfer (t: Test, rngSeed: number, seed: number, beforeRestart: (partial: Uint8Array) => void = () => {}): Promise<{ net: Awaited<ReturnType<typeof testnet>>, alice: TestNode, bob2: TestNode, bDisk: MemoryFileDisk, data: Uint8Array, id: string, resumed: TransferJson }> {
  const { net, alice, bob, bDisk, data, id } = await sending(t, rngSeed, seed, 100 * CHUNK + 5, '/src/big')
  await net.until(() => (transfer(bob, id)?.bytesDone ?? 0) > 70 * CHUNK, 300_000, 'more than one sync\'s worth received')
  await net.crash(2)
  bDisk.crash() // what the partial file had not synced is gone with the process
  beforeRestart(bDisk.partialBytes(`${net.nodes[2]!.opts.paths.home}/files/${id}.part`) as Uint8Array)
  const bob2 = await net.restart(2)
  const resumed = transfer(bob2, id) as TransferJson
  t.ok(resumed.bytesDone >= 64 * CHUNK, `the synced chunks are still held (${resumed.bytesDone} bytes)`)
  await net.until(() => stateOf(bob2, id) === 'done' && stateOf(alice, id) === 'done', 600_000, 'the transfer done after the restart')
  t.ok(same(bDisk.files.get(transfer(bob2, id)?.path as string), data), 'byte for byte')
  return { net, alice, bob2, bDisk, data, id, resumed }
}

t.test('the receiver killed mid-transfer resumes from what it had synced; an altered partial file is fetched again', async t => {
  // the disk altered a byte of a chunk the bitmap says is held: the file is checked against the
  // root before it is shown complete, so it is fetched again rather than placed wrong
  const { net, alice, bDisk, data, id, resumed } = await receiverKilledMidTransfer(t, 0xdead, 73, part => { part[5] = (part[5] as number) ^ 0xff })
  t.equal(resumed.state, 'active', 'the transfer was still active after the restart')
  // it held chunks from before the restart: read back at the finish; fetched again whole, not again
  t.equal(bDisk.hashed.get(`${net.nodes[2]!.opts.paths.home}/files/${id}.part`), 1, 'the partial file was read back once')
  t.ok((transfer(alice, id)?.chunkBytesSent ?? 0) > data.length + resumed.bytesDone - 32 * CHUNK, 'the altered partial file was fetched again whole')
})

t.test('the receiver killed mid-transfer: after its restart only the chunks it lacked come, each once', async t => {
  // Alice's session to the killed Bob lingers (nothing tells her it ended), so Bob's new one
  // replaces it without a link-down: what old Bob had asked for and Alice had queued must not
  // follow onto the new link (files.md §3.2)
  const { bob2, data, id, resumed } = await receiverKilledMidTransfer(t, 0xbeef, 74)
  const done = transfer(bob2, id) as TransferJson
  t.equal(done.duplicateChunks, 0, 'no chunk Bob held was sent again')
  t.equal(done.chunkBytesReceived - resumed.chunkBytesReceived, data.length - resumed.bytesDone, 'after the restart, exactly the chunks Bob lacked, each once')
})

t.test('the sender killed mid-transfer: after its restart only missing chunks are sent', async t => {
  const { net, bob, bDisk, data, id } = await sending(t, 0x5e9d, 74, 60 * CHUNK, '/src/s')
  await net.until(() => (transfer(bob, id)?.bytesDone ?? 0) > 20 * CHUNK, 300_000, 'a part received')
  await net.crash(1)
  await net.advance(2000)
  const alice2 = await net.restart(1)
  t.equal(stateOf(alice2, id), 'active', 'the sender still has the transfer after the restart')
  await net.until(() => stateOf(bob, id) === 'done' && stateOf(alice2, id) === 'done', 600_000, 'the transfer done')
  const got = transfer(bob, id) as TransferJson
  t.equal(got.duplicateChunks, 0, 'no chunk the receiver held was sent again')
  t.equal(got.chunkBytesReceived, data.length, 'every chunk received exactly once')
  t.ok(same(bDisk.files.get(got.path as string), data), 'byte for byte')
})

t.test('strangers cannot push; offers above the auto-accept size wait for the user; decline and cancel', async t => {
  const rng = testRng(t, 0x0ffe)
  const net = await testnet(t, 3, 75, { files: () => ({ autoAcceptBytes: () => 1000 }) })
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  const aDisk = net.fileDisk(1) as MemoryFileDisk
  aDisk.files.set('/src/a', bytesOf(rng, 5000))
  await t.rejects(alice.files.send(bob.fingerprint, '/src/a'), { code: 'CONTACT_NOT_FOUND' }, 'only to contacts')
  await net.addContact(alice, bob) // Alice knows Bob; Bob does not know Alice
  await net.drive(alice.actions.send(bob.fingerprint, 'hi'))
  await net.until(() => bob.actions.requests().length === 1, 60_000, 'Bob sees a request')
  const s = await net.drive(alice.files.send(bob.fingerprint, '/src/a'))
  await net.until(() => stateOf(alice, s.id) === 'failed', 60_000, 'the stranger\'s offer refused')
  t.equal(transfer(alice, s.id)?.reason, 'peer: refused')
  t.equal(transfer(bob, s.id), undefined, 'Bob keeps nothing of it')

  await net.addContact(bob, alice)
  const big = await net.drive(alice.files.send(bob.fingerprint, '/src/a'))
  await net.until(() => stateOf(bob, big.id) === 'offered', 60_000, 'Bob is asked')
  await net.advance(5000)
  t.equal(stateOf(bob, big.id), 'offered', 'above autoAcceptBytes nothing moves until Bob answers')
  t.ok(bob.seen.some(e => e.type === 'file' && (e.transfer as TransferJson).id === big.id), 'a file event tells clients')
  await net.drive(bob.files.decline(big.id))
  await net.until(() => stateOf(alice, big.id) === 'declined', 60_000, 'Alice hears the decline')

  const small = await net.drive(alice.files.send(bob.fingerprint, '/src/a'))
  await net.until(() => stateOf(bob, small.id) === 'offered', 60_000, 'Bob is asked again')
  await net.drive(alice.files.cancel(small.id))
  await net.until(() => stateOf(bob, small.id) === 'cancelled', 60_000, 'Bob hears the cancel')
  await t.rejects(bob.files.accept(small.id), { code: 'BAD_ARGUMENT' }, 'a cancelled offer cannot be accepted')
})

t.test('a full disk stops the transfer on both sides, keeps every chunk written, and resumes once space is freed', async t => {
  const rng = testRng(t, 0xf011)
  const { net, alice, bob, aDisk, bDisk } = await pair(t, 76)
  const data = bytesOf(rng, 20 * CHUNK + 77)
  aDisk.files.set('/src/f', data)
  bDisk.capacity = 10 * CHUNK // chunks are asked for in order: ten fit, the eleventh does not
  const { id } = await net.drive(alice.files.send(bob.fingerprint, '/src/f'))
  await net.until(() => stateOf(bob, id) === 'failed' && stateOf(alice, id) === 'failed', 60_000, 'failed on both sides')
  t.equal(transfer(bob, id)?.reason, 'disk full')
  t.equal(transfer(alice, id)?.reason, 'peer: disk full')
  t.equal([...bDisk.files.keys()].filter(p => p.includes('downloads')).length, 0, 'nothing placed')
  const partial = `${net.nodes[2]!.opts.paths.home}/files/${id}.part`
  t.equal(transfer(bob, id)?.bytesDone, 10 * CHUNK, 'every chunk that was written is still held')
  t.equal(bDisk.partialBytes(partial)?.length, 10 * CHUNK, 'the partial file is kept')
  await net.advance(30_000)
  const stopped = transfer(bob, id) as TransferJson
  t.equal(stopped.state, 'failed', 'nothing moves until the user resumes')
  await t.rejects(alice.files.resume(id), { code: 'BAD_ARGUMENT' }, 'only the receiver resumes')

  // the held chunks survive a restart of the receiver too
  await net.crash(2)
  bDisk.crash()
  const bob2 = await net.restart(2)
  t.equal(transfer(bob2, id)?.bytesDone, 10 * CHUNK, 'held across a restart')
  bDisk.capacity = null // space freed
  t.equal((await net.drive(bob2.files.resume(id))).state, 'active', 'resumed')
  await net.until(() => stateOf(bob2, id) === 'done' && stateOf(alice, id) === 'done', 300_000, 'done on both sides after the resume')
  const got = transfer(bob2, id) as TransferJson
  t.ok(same(bDisk.files.get(got.path as string), data), 'byte for byte')
  t.equal(got.chunkBytesReceived - stopped.chunkBytesReceived, data.length - 10 * CHUNK, 'after the resume, only the chunks not held, each once')
  await t.rejects(bob2.files.resume(id), { code: 'BAD_ARGUMENT' }, 'a finished transfer is not resumed')
})

// The sender's REQUESTs from just before the receiver's CANCEL were handled after it: the sender,
// failed by then, answered each with CANCEL (unknown transfer), which reached the receiver after
// its resume and ended the resumed transfer, while the sender, resumed by the ACCEPT, waited
// forever. Resumed in the same instant the failure is known, the worst case for that race.
t.test('resumed the moment it failed: both sides finish, none ends the other\'s resumed transfer', async t => {
  for (const [seed, chunks] of [[77, 37], [79, 95], [81, 17]] as const) {
    const rng = testRng(t, seed)
    const { net, alice, bob, aDisk, bDisk } = await pair(t, seed)
    const data = bytesOf(rng, 183 * CHUNK + 77)
    aDisk.files.set('/src/f', data)
    bDisk.capacity = chunks * CHUNK + 1000
    const { id } = await net.drive(alice.files.send(bob.fingerprint, '/src/f'))
    await net.until(() => stateOf(bob, id) === 'failed' && stateOf(alice, id) === 'failed', 60_000, 'failed on both sides')
    bDisk.capacity = null
    await net.drive(bob.files.resume(id))
    await net.until(() => TERMINAL_STATES.has(stateOf(bob, id) as string) && TERMINAL_STATES.has(stateOf(alice, id) as string), 300_000, 'ended on both sides')
    t.strictSame([stateOf(bob, id), transfer(bob, id)?.reason, stateOf(alice, id)], ['done', null, 'done'], `done on both sides (capacity ${chunks} chunks)`)
    t.ok(same(bDisk.files.get(transfer(bob, id)?.path as string), data), 'byte for byte')
  }
})

// The receiver's record of the failure was still being written (an fsync behind a busy disk) when
// the user resumed: the resume took up the ended life's runtime state, stopped and asking nothing,
// and the ending then dropped it and removed the partial file. The transfer stalled here; in the
// full-disk lab a later request went on and the file, found not to match at the end, came whole again.
t.test('resumed while the failure\'s record is still being written: the resumed transfer keeps its partial file', async t => {
  const rng = testRng(t, 0xf012)
  const { net, alice, bob, aDisk, bDisk } = await pair(t, 78)
  const data = bytesOf(rng, 40 * CHUNK + 5)
  aDisk.files.set('/src/f', data)
  bDisk.capacity = 10 * CHUNK
  // Bob's store holds the first write of a failed transfer's record until released
  const store = bob.store
  const put = store.putTransfer.bind(store)
  let release: (() => void) | null = null
  let held = false
  store.putTransfer = async (key, value, sync) => {
    if (!held && transfer(bob, key)?.state === 'failed') {
      held = true
      await new Promise<void>(resolve => { release = resolve })
    }
    await put(key, value, sync)
  }
  const { id } = await net.drive(alice.files.send(bob.fingerprint, '/src/f'))
  await net.until(() => held && stateOf(alice, id) === 'failed', 60_000, 'failed on both sides, Bob\'s record held')
  const stopped = transfer(bob, id) as TransferJson
  t.equal(stopped.bytesDone, 10 * CHUNK, 'ten chunks held')
  await net.advance(2000) // what was in flight when it failed has come and been dropped
  bDisk.capacity = null
  const resumed = bob.files.resume(id)
  await net.advance(500) // the resumed transfer under way while the failure's record is held
  ;(release as (() => void) | null)?.()
  await net.drive(resumed)
  await net.until(() => stateOf(bob, id) === 'done' && stateOf(alice, id) === 'done', 300_000, 'done on both sides')
  const got = transfer(bob, id) as TransferJson
  t.ok(same(bDisk.files.get(got.path as string), data), 'byte for byte')
  t.equal(got.chunkBytesReceived - stopped.chunkBytesReceived, data.length - 10 * CHUNK, 'only the chunks not held, each once: the partial file was not fetched again')
})

t.test('any other write error ends the transfer and removes the partial file', async t => {
  const rng = testRng(t, 0xe10)
  const { net, alice, bob, aDisk, bDisk } = await pair(t, 78)
  aDisk.files.set('/src/f', bytesOf(rng, 20 * CHUNK))
  bDisk.failWrites = 'EIO'
  const { id } = await net.drive(alice.files.send(bob.fingerprint, '/src/f'))
  await net.until(() => stateOf(bob, id) === 'failed' && stateOf(alice, id) === 'failed', 60_000, 'failed on both sides')
  t.equal(transfer(bob, id)?.reason, 'i/o error')
  t.equal(transfer(alice, id)?.reason, 'peer: i/o error')
  t.equal(bDisk.partialBytes(`${net.nodes[2]!.opts.paths.home}/files/${id}.part`), undefined, 'the partial file removed')
  await t.rejects(bob.files.resume(id), { code: 'BAD_ARGUMENT' }, 'and it cannot be resumed')
})

t.test('a contact cannot fill the disk with small files: auto-accepting stops at the pending budget, then the user is asked', async t => {
  const rng = testRng(t, 0xb0d9)
  const { net, alice, bob, aDisk } = await pair(t, 79, { files: () => ({ autoAcceptBytes: () => 10 * CHUNK, autoAcceptPendingBytes: () => 25 * CHUNK }) })
  for (const name of ['a', 'b', 'c', 'd']) aDisk.files.set(`/src/${name}`, bytesOf(rng, 10 * CHUNK))
  // three offers at once, each under autoAcceptBytes: two fit the 25-chunk budget, the third would not
  const [a, b, c] = await net.drive(Promise.all(['a', 'b', 'c'].map(async name => await alice.files.send(bob.fingerprint, `/src/${name}`)))) as [TransferJson, TransferJson, TransferJson]
  await net.until(() => stateOf(bob, c.id) === 'offered' && [a, b].every(x => stateOf(bob, x.id) !== undefined), 60_000, 'the three offers at Bob')
  await net.until(() => stateOf(bob, a.id) === 'done' && stateOf(bob, b.id) === 'done', 120_000, 'the first two accepted and received')
  t.equal(stateOf(bob, c.id), 'offered', 'the third waits for Bob')
  t.ok(bob.seen.some(e => e.type === 'file' && (e.transfer as TransferJson).id === c.id && (e.transfer as TransferJson).state === 'offered'), 'and clients are told of it')
  // the budget is for what is accepted and not yet received: with nothing pending, the next fits again
  const d = await net.drive(alice.files.send(bob.fingerprint, '/src/d'))
  await net.until(() => stateOf(bob, d.id) === 'done', 120_000, 'a later file accepted without asking')
  t.equal(stateOf(bob, c.id), 'offered', 'the one that was asked about still waits')
  await net.drive(bob.files.accept(c.id))
  await net.until(() => stateOf(bob, c.id) === 'done' && stateOf(alice, c.id) === 'done', 120_000, 'accepted by Bob, it arrives')
})

t.test('ended transfers are forgotten beyond transfersKeep and after transfersKeepDays; received files stay', async t => {
  const rng = testRng(t, 0x9f0e)
  const files = (): NodeFileOptions => ({ keepEnded: () => 2, keepEndedMs: () => 10 * 60_000 })
  const { net, alice, bob, aDisk, bDisk } = await pair(t, 80, { files })
  const ids: string[] = []
  for (const k of [0, 1, 2, 3]) {
    aDisk.files.set(`/src/k${k}`, bytesOf(rng, 3 * CHUNK))
    const { id } = await net.drive(alice.files.send(bob.fingerprint, `/src/k${k}`))
    await net.until(() => stateOf(bob, id) === 'done' && stateOf(alice, id) === 'done', 120_000, `file ${k} done`)
    ids.push(id)
    await net.advance(1000) // each ends at its own time: the oldest go first
  }
  await net.advance(61_000) // the next look at ended transfers
  t.same(bob.files.list().map(x => x.id), ids.slice(2), 'Bob keeps the newest two')
  t.same(alice.files.list().map(x => x.id), ids.slice(2), 'and so does Alice')
  t.equal([...bDisk.files.keys()].filter(p => p.includes('/downloads/k')).length, 4, 'every received file is still there')
  await net.stop(2)
  const bob2 = await net.restart(2)
  t.same(bob2.files.list().map(x => x.id), ids.slice(2), 'forgotten in the store too: not back after a restart')
  await net.advance(10 * 60_000 + 61_000)
  t.same(bob2.files.list(), [], 'older than transfersKeepDays: forgotten')
  t.same(alice.files.list(), [], 'on both sides')
  t.equal([...bDisk.files.keys()].filter(p => p.includes('/downloads/k')).length, 4, 'the files stay')
})

t.test('chat goes on during a transfer, ahead of the file data not yet sent', async t => {
  const rng = testRng(t, 0xc4a7)
  const { net, alice, bob, aDisk } = await pair(t, 77)
  const aLink = alice.messaging.network.link(bob.fingerprint)
  if (aLink === undefined) throw new Error('no link from alice to bob')
  const now = (): number => net.sim?.now ?? 0
  // simulated ms from the send to the message at bob; the file bytes in alice's channel, and those
  // of them in the stream and not yet sent: what the message waits behind besides what is in flight
  // and ms until alice has bob's receipt (the round trip a user waits for: `--wait delivered`)
  const chat = async (text: string): Promise<{ ms: number, receiptMs: number, ahead: number, unsent: number }> => {
    const ahead = aLink.rs.sendBufferedBytes
    const unsent = aLink.rs.unsentBytes
    const t0 = now()
    const { id } = await net.drive(alice.actions.send(bob.fingerprint, text))
    await net.until(() => received(bob, text), 60_000, `"${text}" at bob`)
    const ms = now() - t0
    await net.until(() => receipted(alice, id), 60_000, `"${text}" receipted`)
    return { ms, receiptMs: now() - t0, ahead, unsent }
  }
  let idle = 0
  let idleReceipt = 0
  for (let i = 0; i < 3; i++) {
    const c = await chat(`idle ${i}`)
    idle = Math.max(idle, c.ms)
    idleReceipt = Math.max(idleReceipt, c.receiptMs)
  }
  const chunks = 240
  aDisk.files.set('/src/c', bytesOf(rng, chunks * CHUNK))
  const { id } = await net.drive(alice.files.send(bob.fingerprint, '/src/c'))
  const during: Array<{ ms: number, receiptMs: number, ahead: number, unsent: number }> = []
  for (let i = 0; i < 8; i++) {
    await net.until(() => (transfer(bob, id)?.bytesDone ?? 0) > (5 + 10 * i) * CHUNK, 300_000, 'the transfer under way')
    during.push(await chat(`during ${i}`))
  }
  t.comment(JSON.stringify({ idleMs: idle, idleReceiptMs: idleReceipt, during }))
  t.ok((transfer(bob, id)?.bytesDone ?? 0) < chunks * CHUNK, 'delivered while the file was still arriving')
  // files.md §3.3: a chunk is written only while the channel holds less than FILE_INFLIGHT_BYTES,
  // so at most one DATA frame (a chunk, its proof and headers) beyond it
  const frame = CHUNK + 1024
  t.ok(during.every(d => d.ahead < FILE_INFLIGHT_BYTES + frame), `file bytes unacknowledged ahead of each message under ${FILE_INFLIGHT_BYTES} + one frame`)
  // DATA is bulk (reliable.md §3.1): it enters the stream only as packets have room for it, so a
  // message goes ahead of every chunk not yet begun, behind at most the one a packet has begun.
  // When the stream was first in first out, the first messages waited behind what slow start held
  // back (up to ~460 KiB not yet sent: 60 ms, 6x idle; docs/performance.md §10.4)
  t.ok(during.every(d => d.unsent < frame), 'file bytes in the stream not yet sent ahead of each message: less than one frame')
  t.ok(during.every(d => d.ms <= 2 * idle), `every message within 2x idle (${idle} ms)`)
  // bob's receipt for a message waits for his link to see the previous receipt acknowledged
  // (messaging.md §4.4): with his REQUESTs always in flight that was the link's 50 ms check, and
  // receipts took 40-50 ms (2.5x idle) from the third message on; the link now settles frames at
  // every acknowledgement ('acked')
  t.ok(during.every(d => d.receiptMs <= 2 * idleReceipt), `every receipt back within 2x idle (${idleReceipt} ms)`)
  await net.until(() => stateOf(bob, id) === 'done', 600_000, 'then the file done')
})

t.test('DATA the channel cannot take at once waits in the transfer and goes at a later pump, once', async t => {
  const size = 40 * CHUNK + 77
  // the smallest send buffer a link can have (one largest message, 4 MiB): a 3.75 MiB frame waits
  // for room while the channel holds more than 256 KiB, so the pump, which writes DATA while it
  // holds less than FILE_INFLIGHT_BYTES (512 KiB), finds it waiting
  const buffer = ReliableSession.maxMessageBytes + 4
  const { net, alice, bob, bDisk, data, id } = await sending(t, 0x7e5d, 79, size, '/src/r', { linkSendBufferBytes: buffer })
  const aLink = alice.messaging.network.link(bob.fingerprint)
  if (aLink === undefined) throw new Error('no link from alice to bob')
  await net.until(() => (transfer(bob, id)?.bytesDone ?? 0) >= 4 * CHUNK, 300_000, 'the transfer under way')
  // other frames wait for room in alice's channel: while one waits the channel takes no DATA
  // (PeerLink.trySend answers null). Bob drops them (a reserved frame type, files.md §3)
  const filler = new Uint8Array(buffer - 256 * 1024)
  filler[0] = 0x2f
  const fillers = Array.from({ length: 2 }, async () => { await aLink.send(filler) })
  t.ok(aLink.trySend(new Uint8Array([0x2f, 0]), true) === null, 'the channel takes nothing while sends wait for room')
  const t0 = net.sim?.now ?? 0
  await net.until(() => stateOf(bob, id) === 'done' && stateOf(alice, id) === 'done', 600_000, 'the file done')
  // a refused chunk dropped rather than queued again would come only when Bob asks again, after REQUEST_STALL_MS
  const ms = (net.sim?.now ?? 0) - t0
  t.ok(ms < REQUEST_STALL_MS, `done ${ms} ms (simulated) after the frames began to wait: no chunk waited to be asked again`)
  await net.drive(Promise.all(fillers))
  t.ok(alice.files.refused > 0, `DATA refused by the channel and queued again (${alice.files.refused} times)`)
  t.ok(same(bDisk.files.get(transfer(bob, id)?.path as string), data), 'byte for byte')
  const sent = transfer(alice, id) as TransferJson
  const got = transfer(bob, id) as TransferJson
  t.equal(sent.chunkBytesSent, size, 'every chunk sent once: a refused one is sent at a later pump, not lost and not twice')
  t.equal(got.chunkBytesReceived, size, 'and received once')
  t.equal(got.duplicateChunks, 0, 'no duplicates')
})

t.test('a disk slower than the link: one sync per SYNC_EVERY_CHUNKS chunks or per second, not one per chunk written while a sync waits', async t => {
  const rng = testRng(t, 0x5ac5)
  const { net, alice, bob, aDisk, bDisk } = await pair(t, 78)
  const chunks = 300
  aDisk.files.set('/src/s', bytesOf(rng, chunks * CHUNK))
  bDisk.writeDelay = async () => { for (let i = 0; i < 8; i++) await Promise.resolve() } // each write returns some microtasks later
  const t0 = (net.sim?.now ?? 0)
  const { id } = await net.drive(alice.files.send(bob.fingerprint, '/src/s'))
  await net.until(() => stateOf(bob, id) === 'done', 600_000, 'the file done')
  const seconds = Math.ceil(((net.sim?.now ?? 0) - t0) / SYNC_EVERY_MS)
  t.ok(same(bDisk.files.get(transfer(bob, id)?.path as string), aDisk.files.get('/src/s')), 'byte for byte')
  // every SYNC_EVERY_CHUNKS chunks, every SYNC_EVERY_MS, and once to finish (files.md §5.1)
  const most = Math.ceil(chunks / SYNC_EVERY_CHUNKS) + seconds + 1
  t.ok(bDisk.syncs <= most, `${bDisk.syncs} syncs for ${chunks} chunks over ${seconds} s: at most ${most}`)
})

t.test('verified chunks are written in runs, not a write per chunk as it comes', async t => {
  const rng = testRng(t, 0x3175)
  // a 1 Gbit/s link: chunks come one by one, ~0.27 ms apart, as over loopback
  const { net, alice, bob, aDisk, bDisk } = await pair(t, 83, { link: { latencyMs: { base: 1 }, bandwidthBps: 1e9, queueBytes: 4 << 20 } })
  const chunks = 256
  aDisk.files.set('/src/r', bytesOf(rng, chunks * CHUNK))
  const { id } = await net.drive(alice.files.send(bob.fingerprint, '/src/r'))
  await net.until(() => stateOf(bob, id) === 'done', 600_000, 'the file done')
  t.ok(same(bDisk.files.get(transfer(bob, id)?.path as string), aDisk.files.get('/src/r')), 'byte for byte')
  t.equal(transfer(bob, id)?.chunkBytesReceived, chunks * CHUNK, 'each chunk received once')
  // each write a trip to the disk's thread pool: together once WRITE_RUN_BYTES wait, or after
  // WRITE_WAIT_MS (files.md §5.1). Written as each chunk came, this was 256 writes (one per chunk)
  const most = chunks / (WRITE_RUN_BYTES / CHUNK) * 2
  t.ok(bDisk.writes <= most, `${bDisk.writes} writes for ${chunks} chunks: at most ${most}`)
})

t.test('a slow fsync does not pause the transfer: chunks are written while a sync runs', async t => {
  const rng = testRng(t, 0x51c0)
  const { net, alice, bob, aDisk, bDisk } = await pair(t, 81)
  const chunks = 6 * SYNC_EVERY_CHUNKS
  const send = async (path: string): Promise<number> => {
    aDisk.files.set(path, bytesOf(rng, chunks * CHUNK))
    const t0 = net.sim?.now ?? 0
    const { id } = await net.drive(alice.files.send(bob.fingerprint, path))
    await net.until(() => stateOf(bob, id) === 'done', 600_000, `${path} done`)
    t.ok(same(bDisk.files.get(transfer(bob, id)?.path as string), aDisk.files.get(path)), 'byte for byte')
    return (net.sim?.now ?? 0) - t0
  }
  const quick = await send('/src/q')
  const delay = 1000
  bDisk.syncDelay = async () => { await new Promise<void>(resolve => { bob.opts.world.scheduler.setTimer(delay, resolve) }) }
  const slow = await send('/src/s')
  // When the writes waited in each sync's chain, the receiver stopped asking at WRITE_BACKLOG
  // chunks and the transfer paused for every sync: 4.5 s more here. Now what is waited for is
  // the sync under way and the one queued when the last chunk came, then the last (files.md §5.2):
  // at most 3 s more (2.5 s here)
  t.ok(slow < quick + 3.5 * delay, `${chunks} chunks in ${quick} ms, and with every fsync taking ${delay} ms in ${slow} ms (simulated)`)
})
