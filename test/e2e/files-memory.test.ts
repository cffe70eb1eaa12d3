// A receiver's memory stays flat whatever the file's size (proto-spec/files.md §3.2–§3.3,
// docs/performance.md §10): two real daemons on loopback, a 128 MiB file, the receiver logging
// its memory every 250 ms (DMESS_MEMORY_LOG, src/daemon/memory-log.ts). What it holds for the
// file is bounded by the request window, the write backlog and the channel's flow-control window
// (a few MiB), so neither its anonymous resident memory nor its ArrayBuffers may grow by half the
// file: a receiver that kept the file, or a large part of it, in memory at any moment of the
// transfer (receiving, writing, syncing, reading it back to check the root) fails. Judged by
// memory only: a slow machine makes the transfer longer, not the figures larger.
import t from 'tap'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { cli, ipcCall, makeNodes, startDaemon, waitFor, type Node } from './helpers.js'

t.setTimeout(600_000)

const MIB = 1024 * 1024
const FILE_MIB = 128
/** growth over the level before the offer, in KiB: half the file */
const BOUND_KIB = FILE_MIB * 1024 / 2

interface Sample { t: number, rssAnon?: number, arrayBuffers: number, external: number }

async function samples (path: string): Promise<Sample[]> {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Sample)
}

t.test(`a ${FILE_MIB} MiB file: the receiver's anonymous memory and ArrayBuffers grow by less than half of it`, async t => {
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  const dir = await mkdtemp(join(tmpdir(), 'dmess-files-memory-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'big.bin')
  const fh = await open(file, 'w')
  try {
    const piece = randomBytes(4 * MIB) // content is not under test: chunks repeat every 4 MiB
    for (let i = 0; i < FILE_MIB / 4; i++) await fh.write(piece)
  } finally { await fh.close() }
  const memLog = join(dir, 'bob-memory.jsonl')
  await cli(bob, ['config', 'set', 'downloadDir', join(dir, 'downloads')])
  await cli(bob, ['config', 'set', 'autoAcceptBytes', String(FILE_MIB * MIB)])
  await cli(bob, ['config', 'set', 'autoAcceptPendingBytes', String(FILE_MIB * MIB)])
  await startDaemon(t, alice, [bob])
  await startDaemon(t, bob, [alice], { DMESS_MEMORY_LOG: memLog })
  await cli(alice, ['contacts', 'add', bob.invite])
  await cli(bob, ['contacts', 'add', alice.invite])
  // the level before the transfer: the daemon up, its link to alice made by a delivered message
  await ipcCall(alice, 'messages.send', { contact: 'bob', text: 'a file follows', wait: 'delivered', timeoutMs: 60_000 })
  await waitFor(async () => (await samples(memLog)).length >= 2, 60_000, () => 'the memory log started')
  const before = await samples(memLog)
  const base = before[before.length - 1] as Sample
  const [offer] = await ipcCall(alice, 'files.send', { contact: 'bob', paths: [file] })
  const id = offer?.id as string
  await waitFor(async () => (await ipcCall(bob, 'files.list', {})).find(x => x.id === id)?.state === 'done', 540_000, () => 'the file done at bob')
  // one more sample after done: the read-back of the finished file is inside the window
  const doneAt = (await samples(memLog)).length
  await waitFor(async () => (await samples(memLog)).length > doneAt, 60_000, () => 'a sample after done')
  const during = (await samples(memLog)).slice(before.length)
  t.ok(during.length >= 2, `${during.length} samples during the transfer`)
  const peakAnon = Math.max(...during.map(s => s.rssAnon ?? 0))
  const peakBuffers = Math.max(...during.map(s => s.arrayBuffers))
  t.comment(`bob before: RssAnon ${base.rssAnon ?? NaN} KiB, arrayBuffers ${base.arrayBuffers} KiB; peak during: RssAnon ${peakAnon} KiB, arrayBuffers ${peakBuffers} KiB`)
  if (base.rssAnon !== undefined) t.ok(peakAnon - base.rssAnon < BOUND_KIB, `RssAnon grew ${peakAnon - base.rssAnon} KiB, under ${BOUND_KIB} KiB`)
  t.ok(peakBuffers - base.arrayBuffers < BOUND_KIB, `ArrayBuffers grew ${peakBuffers - base.arrayBuffers} KiB, under ${BOUND_KIB} KiB`)
  const got = await readFile(join(dir, 'downloads', 'big.bin'))
  t.ok(got.equals(await readFile(file)), 'the file arrived byte for byte')
})
