// `dmess send` taking its text from stdin or --message-file, through the built binary: a 60 KiB
// message piped in reaches the other daemon whole; mistakes (over the 64 KiB limit, not UTF-8,
// two sources, no file) are one line on stderr before any daemon is asked.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, assertOneLineError, tempHome } from '../helpers/cli.js'
import { cli, cliResult, ipcCall, makeNodes, startDaemon, waitFor, PW, type Node } from './helpers.js'

t.setTimeout(240_000)

const KIB = 1024

/** 60 KiB of text with multi-byte characters and newlines in it, ending in one newline (as `cat` gives it). */
function bigText (): string {
  const line = 'naïve café — 60 KiB through a pipe\n'
  let s = ''
  while (Buffer.byteLength(s + line) < 60 * KIB) s += line
  return s
}

t.test('a 60 KiB message on stdin and one from --message-file arrive whole', async t => {
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  await cli(alice, ['contacts', 'add', bob.invite, '--name', 'bob'])
  await cli(bob, ['contacts', 'add', alice.invite, '--name', 'alice'])
  await startDaemon(t, alice, [bob])
  await startDaemon(t, bob, [alice])

  const text = bigText()
  const piped = await runCli(['send', 'bob', '--json', '--home', alice.home], { env: PW, input: text })
  t.equal(piped.code, 0, `send with stdin exits 0 (${piped.stderr.trim()})`)
  const file = join(await tempHome(t), 'note.txt')
  await writeFile(file, 'from a file\r\n')
  await cli(alice, ['send', 'bob', '--message-file', file])
  const dash = await runCli(['send', 'bob', '-', '--home', alice.home], { env: PW, input: 'from a dash' })
  t.equal(dash.code, 0, '`-` reads stdin')

  const want = [text.slice(0, -1), 'from a file', 'from a dash']
  let got: string[] = []
  await waitFor(async () => {
    got = (await ipcCall(bob, 'messages.history', { contact: alice.fingerprint, limit: 100 })).messages.filter(m => m.direction === 'in').map(m => m.text)
    return got.length >= want.length
  }, 120_000, () => `Bob has ${got.length} of ${want.length} messages`)
  t.equal(Buffer.byteLength(got[0] ?? ''), Buffer.byteLength(text) - 1, 'the piped message arrived at its full length, less the final newline')
  t.same(got, want, 'texts arrive exactly, in order (one trailing newline dropped from stdin and the file)')
})

t.test('mistakes: one line, non-zero exit, no daemon needed', async t => {
  const [alice] = await makeNodes(t, ['alice']) as [Node]
  const h = ['--home', alice.home]
  const dir = await tempHome(t)
  const over = 'x'.repeat(64 * KIB + 1)
  assertOneLineError(t, await runCli(['send', 'bob', ...h], { env: PW, input: over }), /message from stdin is over 64 KiB \(65536 bytes\)/)
  await writeFile(join(dir, 'big.txt'), over)
  assertOneLineError(t, await runCli(['send', 'bob', '--message-file', join(dir, 'big.txt'), ...h], { env: PW }), /over 64 KiB/)
  await writeFile(join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]))
  assertOneLineError(t, await runCli(['send', 'bob', '--message-file', join(dir, 'latin1.txt'), ...h], { env: PW }), /is not UTF-8 text/)
  assertOneLineError(t, await runCli(['send', 'bob', '--message-file', join(dir, 'none.txt'), ...h], { env: PW }), /cannot read the message file .*none\.txt: no such file/)
  assertOneLineError(t, await runCli(['send', 'bob', 'hi', '--message-file', join(dir, 'big.txt'), ...h], { env: PW }), /not both/)
  assertOneLineError(t, await runCli(['send', 'bob', ...h], { env: PW, input: '\n' }), /message from stdin is empty/)
  // exactly the limit is fine: the next complaint is the missing daemon
  assertOneLineError(t, await runCli(['send', 'bob', ...h], { env: PW, input: 'x'.repeat(64 * KIB) }), /daemon/)
  const r = await cliResult(alice, ['send', 'bob', 'x'.repeat(64 * KIB + 1)])
  t.match(r.stderr, /message from the argument is over 64 KiB/)
})
