// A full disk on a real file system (proto-spec/files.md §4.1): Bob's daemon runs in a private
// mount namespace (`unshare -m`) where its partial-file directory, <home>/files, is an 8 MiB tmpfs
// already holding a 5 MiB filler, so a 6 MB file from Alice runs out of space part-way. Both sides
// must say why (Bob `disk full` and what to do, Alice `peer: disk full`), Bob must keep every chunk
// written before the failure (in his record and his partial file), and after the filler is deleted
// `dmess files resume` must finish the transfer byte for byte, fetching only the chunks he lacked.
// The finished file is copied out of the tmpfs into a download directory on another file system.
// The tmpfs lives exactly as long as Bob's daemon: it goes with the namespace, whatever happens to
// this test. Two real daemons on loopback.
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t, { type Test } from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { labReady } from '../../scripts/lab/netns.js'
import { BIN } from '../helpers/cli.js'
import { testRng } from '../helpers/seed.js'
import { cli, cliJson, daemonPid, ipcCall, makeNodes, PW, startDaemon, waitFor, type Node } from '../e2e/helpers.js'
import { isProcessAlive, waitForExit } from '../../src/daemon/lock.js'
import type { TransferJson } from '../../src/files/transfer.js'

const CHUNK = 32768
const MIB = 1024 * 1024
const TMPFS = 'size=8m,mode=0700'
const FILLER_BYTES = 5 * MIB
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Mounts a tmpfs at "$0", writes the filler into it, then runs the rest of the arguments. */
const IN_NAMESPACE = `mount -t tmpfs -o ${TMPFS} dmess-disk-full "$0" && head -c ${FILLER_BYTES} /dev/zero > "$0/filler" && exec "$@"`

/** null when a private mount namespace with a tmpfs can be made here (tried once, on a scratch directory). */
function tmpfsUnavailableReason (): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'dmess-tmpfs-probe-'))
  try {
    execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=1m dmess-probe "$0"', dir], { stdio: 'ignore', timeout: 10_000 })
    return null
  } catch {
    return 'a private mount namespace with a tmpfs could not be made (unshare -m, mount -t tmpfs: util-linux and root)'
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

/** Bob's daemon, detached, inside a new mount namespace where <home>/files is the small tmpfs. */
async function startInNamespace (t: Test, node: Node, peer: Node): Promise<number> {
  const mnt = join(node.home, 'files')
  mkdirSync(mnt, { recursive: true, mode: 0o700 })
  const args = ['daemon', '--detach', '--host', '127.0.0.1', '--port', String(node.port), '--no-mdns', '--peer', `${peer.fingerprint}@127.0.0.1:${peer.port}`, '--home', node.home]
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', IN_NAMESPACE, mnt, process.execPath, BIN, ...args], { env: { ...process.env, ...PW }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', d => { stderr += String(d) })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  t.equal(code, 0, `Bob's daemon started in its namespace ${stderr}`)
  const pid = await daemonPid(node)
  t.teardown(async () => {
    if (!isProcessAlive(pid)) return
    process.kill(pid, 'SIGTERM')
    if (!await waitForExit(pid, 10_000)) process.kill(pid, 'SIGKILL')
  })
  return pid
}

async function transfer (node: Node, id: string): Promise<TransferJson | undefined> {
  return (await ipcCall(node, 'files.list', {})).find(x => x.id === id)
}

if (labReady(t, 'the full-disk lab', tmpfsUnavailableReason)) {
  t.test('a tmpfs fills mid-transfer: both sides say why, nothing received is lost, and it resumes once space is freed', async t => {
    t.setTimeout(300_000)
    const rng = testRng(t, 0xd15c)
    const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
    const dir = await mkdtemp(join(tmpdir(), 'dmess-disk-full-'))
    t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
    const dl = join(dir, 'downloads')
    await mkdir(dl)
    await cli(bob, ['config', 'set', 'downloadDir', dl])
    await startDaemon(t, alice, [bob])
    const bobPid = await startInNamespace(t, bob, alice)
    await cli(alice, ['contacts', 'add', bob.invite])
    await cli(bob, ['contacts', 'add', alice.invite])
    // Bob's tmpfs as his daemon sees it (its mount namespace, through /proc)
    const mnt = `/proc/${bobPid}/root${join(bob.home, 'files')}`
    t.equal((await stat(join(mnt, 'filler'))).size, FILLER_BYTES, 'the tmpfs holds the filler')

    const size = 6_000_000 // more than the 3 MiB left
    const data = rng.bytes(size)
    const p = join(dir, 'big.bin')
    await writeFile(p, data)
    const [offer] = (await cliJson<{ files: TransferJson[] }>(alice, ['send', 'bob', '--file', p])).files as [TransferJson]
    await waitFor(async () => (await transfer(bob, offer.id))?.state === 'failed' && (await transfer(alice, offer.id))?.state === 'failed', 120_000,
      () => 'the transfer stopped on both sides')
    const stopped = await transfer(bob, offer.id) as TransferJson
    const aliceStopped = await transfer(alice, offer.id) as TransferJson
    t.equal(stopped.reason, 'disk full', 'Bob: disk full')
    t.equal((await transfer(alice, offer.id))?.reason, 'peer: disk full', 'Alice: the peer\'s disk is full')
    t.match(await cli(bob, ['files']), new RegExp(`big\\.bin {2}failed \\(disk full — free space, then dmess files resume ${offer.id.slice(0, 8)}\\)`), 'dmess files says what to do')
    t.ok(stopped.bytesDone >= 2 * MIB && stopped.bytesDone < size, `what fitted is held: ${stopped.bytesDone} bytes`)
    t.equal(stopped.bytesDone % CHUNK, 0, 'whole chunks')
    const part = await readFile(join(mnt, `${offer.id}.part`))
    t.ok(part.length >= stopped.bytesDone, 'the partial file is kept')
    t.equal(sha(part.subarray(0, stopped.bytesDone)), sha(data.subarray(0, stopped.bytesDone)), 'and holds those chunks')
    t.match(await readFile(join(bob.home, 'daemon.log'), 'utf8'), /disk full/, 'Bob\'s log says why')

    await unlink(join(mnt, 'filler')) // space freed
    t.match(await cli(bob, ['files', 'resume', offer.id.slice(0, 8)]), /big\.bin: active/, 'dmess files resume')
    await waitFor(async () => (await transfer(bob, offer.id))?.state === 'done' && (await transfer(alice, offer.id))?.state === 'done', 120_000,
      () => 'the transfer done on both sides after the resume')
    const done = await transfer(bob, offer.id) as TransferJson
    t.equal(done.path, join(dl, 'big.bin'), 'placed in the download directory (another file system)')
    t.equal(sha(await readFile(done.path as string)), sha(data), 'byte for byte')
    // what each side counted, in the message: a failure here names the extra bytes' kind
    const counts = (x: TransferJson): string => `bytesDone ${x.bytesDone} sent ${x.chunkBytesSent} received ${x.chunkBytesReceived} bad ${x.badChunks} dup ${x.duplicateChunks}`
    const aliceDone = await transfer(alice, offer.id) as TransferJson
    const refetched = (await readFile(join(bob.home, 'daemon.log'), 'utf8')).includes('does not match the root')
    t.equal(done.chunkBytesReceived - stopped.chunkBytesReceived, size - stopped.bytesDone,
      `after the resume, only the chunks Bob lacked, each once (Bob stopped: ${counts(stopped)}; done: ${counts(done)}; Alice stopped: ${counts(aliceStopped)}; Alice done: ${counts(aliceDone)}; partial file fetched again: ${refetched})`)
    t.equal(done.duplicateChunks, 0, 'no held chunk sent again')
    await t.rejects(stat(join(mnt, `${offer.id}.part`)), { code: 'ENOENT' }, 'the partial file is gone')
  })
}
