// Desktop notifications (config "notify", src/daemon/notify.ts) through real daemons: a fake
// `notify-send` first on the daemon's PATH records its arguments, one line each. A message that
// arrives while no chat is open is announced (with "body": who and the text, escaped); one that
// arrives while a client is subscribed to messages (as the chat is) is not; with "sender" only
// who wrote is shown, never the text. A stranger's first message is announced as a contact request.
import t from 'tap'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, tempHome } from '../helpers/cli.js'
import { cli, cliJson, ipc, makeNodes, startDaemon, waitFor, waitForStatus, PW, type Node } from './helpers.js'

t.setTimeout(300_000)

async function fakeNotifySend (t: Parameters<typeof tempHome>[0]): Promise<{ bin: string, calls: () => Promise<string[][]> }> {
  const bin = await tempHome(t)
  const log = join(bin, 'calls.jsonl')
  // one JSON array of the arguments per call (node is on PATH: the tests run under it)
  await writeFile(join(bin, 'notify-send'), `#!/bin/sh\nexec "${process.execPath}" -e 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + "\\n")' "${log}" "$@"\n`)
  await chmod(join(bin, 'notify-send'), 0o755)
  return {
    bin,
    calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(l => JSON.parse(l) as string[])
  }
}

t.test('a message while no chat is open is announced; while one is open it is not', async t => {
  const fake = await fakeNotifySend(t)
  const [alice, bob, carol] = await makeNodes(t, ['alice', 'bob', 'carol']) as [Node, Node, Node]
  await cli(alice, ['contacts', 'add', bob.invite, '--name', 'bob'])
  await cli(bob, ['contacts', 'add', alice.invite, '--name', 'alice'])
  await cli(alice, ['config', 'set', 'notify', 'body'])
  // the detached daemon inherits the environment of `dmess daemon --detach`
  const env = { ...PW, PATH: `${fake.bin}:${process.env.PATH ?? ''}` }
  const r = await runCli(['daemon', '--detach', '--host', '127.0.0.1', '--port', String(alice.port), '--no-mdns', '--peer', `${bob.fingerprint}@127.0.0.1:${bob.port}`, '--home', alice.home], { env })
  t.equal(r.code, 0, r.stderr)
  await startDaemon(t, bob, [alice])
  t.teardown(async () => { await runCli(['stop', '--home', alice.home]) })

  const first = await cliJson<{ id: string }>(bob, ['send', 'alice', '<b>hi</b> & bye'])
  await waitFor(async () => (await fake.calls()).length >= 1, 60_000, () => 'the first notification')
  t.same(await fake.calls(), [['--app-name=dmess', '--category=im.received', '--', 'dmess: bob', '&lt;b&gt;hi&lt;/b&gt; &amp; bye']], 'who and the text, markup escaped')
  await waitForStatus(bob, 'alice', [first.id], 'delivered', 60_000)

  // a client subscribed to messages, as the chat is: it shows them, so no notification
  const chat = await ipc(alice)
  const seen: string[] = []
  await chat.subscribe(['message'], ev => { seen.push(String((ev as { message?: { text?: string } }).message?.text)) })
  const second = await cliJson<{ id: string }>(bob, ['send', 'alice', 'while the chat is open'])
  await waitForStatus(bob, 'alice', [second.id], 'delivered', 60_000)
  await waitFor(async () => seen.includes('while the chat is open'), 30_000, () => 'the chat client seeing the message')
  // unsubscribed once the daemon answers (a close alone is noticed by the daemon a moment later)
  t.same(await chat.call('unsubscribe', {}), { events: [] })
  chat.close()

  // notifications run one at a time in arrival order: once the third is recorded, a second would be too
  await cliJson(bob, ['send', 'alice', 'after the chat closed'])
  await waitFor(async () => (await fake.calls()).length >= 2, 60_000, () => 'the third notification')
  t.same((await fake.calls()).map(c => c.at(-1)), ['&lt;b&gt;hi&lt;/b&gt; &amp; bye', 'after the chat closed'], 'nothing for the message the chat showed')

  // Carol, whom Alice has not added, writes: a contact request, announced by fingerprint
  await cli(carol, ['contacts', 'add', alice.invite, '--name', 'alice'])
  await startDaemon(t, carol, [alice])
  await cliJson(carol, ['send', 'alice', 'hello from a stranger'])
  await waitFor(async () => (await fake.calls()).length >= 3, 60_000, () => 'the request notification')
  const [summary, body] = (await fake.calls())[2]!.slice(-2)
  t.equal(summary, `dmess: contact request from ${carol.fingerprint.slice(0, 12)}… ("carol")`, 'by fingerprint, the name she gave quoted')
  // the request goes ahead of the message held with it (messaging.md §4.2): announced as it comes, before the text
  t.ok(body === 'wants to add you as a contact' || body === 'hello from a stranger', `the greeting, if the request came with one: ${body ?? ''}`)
})
