// `dmess chat` end to end, in a real terminal: two daemons as separate processes with separate
// homes on 127.0.0.1 (static --peer, no mDNS) and each user's chat running inside tmux (its own
// server socket, so the user's tmux is never touched). Keys go in with send-keys; what the user
// would see is read back with capture-pane.
import { type Test } from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { assertOneLineError, runCli, tempHome } from '../helpers/cli.js'
import { cliHome, PW, waitFor } from '../daemon/helpers.js'
import { startDaemon, stopAll } from './fixtures/chat-daemons.js'
import { chatCommand, SCREEN_WAIT_MS, Tmux, tmuxTest } from './fixtures/tmux.js'
import { freePorts } from './helpers.js'

tmuxTest('dmess chat through tmux: typing shows on the other side, a message arrives, a reply appears, /quit leaves', chatTest)

/** 70,000 characters with spaces, more than one message may carry (64 KiB). */
const BIG_PASTE = 'pasted words and more of them '.repeat(2334).slice(0, 70_000)

async function chatTest (t: Test): Promise<void> {
  const t0 = Date.now()
  const mark = (step: string): void => { t.comment(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${step}`) }
  const [alice, bob] = await Promise.all([cliHome(t, 'alice'), cliHome(t, 'bob')])

  // without a daemon: one line, non-zero
  const noDaemon = runCli(['chat', 'bob', '--home', alice.home])
  // each adds the other from an invite, so no contact request is needed
  const pairs = [{ me: alice, them: bob, name: 'bob' }, { me: bob, them: alice, name: 'alice' }]
  const added = await Promise.all(pairs.map(async ({ me, them, name }) =>
    await runCli(['contacts', 'add', them.invite, '--name', name, '--home', me.home], { env: PW })))
  for (const r of added) t.equal(r.code, 0, `contacts add: ${r.stdout.trim()}${r.stderr.trim()}`)
  assertOneLineError(t, await noDaemon, /no dmess daemon is running/)
  const [pa, pb] = await freePorts(2) as [number, number]
  t.teardown(stopAll)
  const [a, b] = await Promise.all([startDaemon(alice.home, pa, [{ port: pb, fingerprint: bob.fingerprint }]), startDaemon(bob.home, pb, [{ port: pa, fingerprint: alice.fingerprint }])])
  t.ok(a.pid > 0 && b.pid > 0, 'two daemons running')
  mark('daemons running')

  // stdin is not a terminal: one line, non-zero, nothing drawn
  assertOneLineError(t, await runCli(['chat', 'bob', '--home', alice.home]), /needs an interactive terminal/)

  const dir = await tempHome(t)
  const tmux = new Tmux(join(dir, 'tmux.sock'))
  t.teardown(async () => { await tmux.kill() })
  const aliceStatus = join(dir, 'alice.status')
  const bobStatus = join(dir, 'bob.status')
  await tmux.start('alice', chatCommand(alice.home, 'bob', aliceStatus))
  await tmux.start('bob', chatCommand(bob.home, 'alice', bobStatus))

  await tmux.waitFor('alice', /dmess · bob \(\w{12}…\) · ● online/, 'alice sees bob online in the header')
  await tmux.waitFor('bob', /dmess · alice \(\w{12}…\) · ● online/, 'bob sees alice online')
  mark('both chats on screen')

  // alice types: bob sees it before she presses Enter
  await tmux.cmd('send-keys', '-t', 'alice', '-l', 'hello bob, from a real terminal')
  await tmux.waitFor('alice', /› hello bob, from a real terminal/, 'the typed line on alice\'s input')
  await tmux.waitFor('bob', /alice is typing…/, 'the typing indicator on bob\'s screen')
  await tmux.cmd('send-keys', '-t', 'alice', 'Enter')
  mark('typing seen, message sent')

  // the message reached bob's store, and his screen
  await waitFor(async () => {
    const r = await runCli(['history', 'alice', '--json', '--home', bob.home])
    const h = r.code === 0 ? JSON.parse(r.stdout) as Array<{ direction: string, text: string }> : []
    return h.some(m => m.direction === 'in' && m.text === 'hello bob, from a real terminal')
  }, SCREEN_WAIT_MS, () => 'the message in bob\'s history')
  await tmux.waitFor('bob', /alice: hello bob, from a real terminal/, 'the message on bob\'s screen')
  t.notMatch(await tmux.screen('bob'), /alice is typing/, 'her message ended the typing indicator')
  // bob's chat shows it, so it is marked read and alice gets the receipt
  await tmux.waitFor('alice', /you: hello bob, from a real terminal ✓✓ read/, 'the read mark on alice\'s message')

  mark('message stored, shown and read')
  // bob types in his chat: alice sees the indicator; then he answers with `dmess send`
  await tmux.cmd('send-keys', '-t', 'bob', '-l', 'thinking')
  await tmux.waitFor('alice', /bob is typing…/, 'bob\'s typing on alice\'s screen')
  await tmux.cmd('send-keys', '-t', 'bob', 'C-u')
  const r = await runCli(['send', 'alice', 'reply from bob', '--wait', 'delivered', '--home', bob.home])
  t.equal(r.code, 0, `dmess send: ${r.stderr}`)
  const screen = await tmux.waitFor('alice', /bob: reply from bob/, 'the reply on alice\'s screen')
  const lines = screen.split('\n')
  const mine = lines.findIndex(l => l.includes('you: hello bob'))
  const reply = lines.findIndex(l => l.includes('bob: reply from bob'))
  t.ok(mine >= 0 && reply > mine, 'newest at the bottom')
  t.match(lines[reply] ?? '', /^\d\d:\d\d bob: reply from bob$/, 'with the sender\'s time')
  await tmux.waitFor('bob', /you: reply from bob ✓✓ read/, 'alice\'s open chat sent a read receipt')

  mark('reply shown')
  // a 70,000-character paste (tmux pastes it as a terminal would): the line stops at the limit
  // of one message and says so, and the chat stays usable — Ctrl-U clears it, a line is sent
  const pasteFile = join(dir, 'paste.txt')
  await writeFile(pasteFile, BIG_PASTE)
  await tmux.cmd('load-buffer', '-b', 'big', pasteFile)
  const pasted = Date.now()
  await tmux.cmd('paste-buffer', '-b', 'big', '-t', 'alice')
  await tmux.waitFor('alice', /limit of one message/, 'the chat says the paste was cut at the message limit')
  console.log(JSON.stringify({ metric: 'chat_paste_70k_response_ms', value: Date.now() - pasted }))
  t.match(await tmux.screen('alice'), /› …[a-z ]{40,}/, 'the input line shows the end of the paste')
  await tmux.cmd('send-keys', '-t', 'alice', 'C-u')
  await tmux.cmd('send-keys', '-t', 'alice', '-l', 'after the paste')
  await tmux.cmd('send-keys', '-t', 'alice', 'Enter')
  await tmux.waitFor('bob', /alice: after the paste/, 'a line sent after the paste arrives')
  mark('70k paste handled')

  // /quit and Ctrl-C leave cleanly: the panes close, the chats exit 0
  await tmux.cmd('send-keys', '-t', 'alice', '-l', '/quit')
  await tmux.cmd('send-keys', '-t', 'alice', 'Enter')
  await tmux.cmd('send-keys', '-t', 'bob', 'C-c')
  await waitFor(async () => !await tmux.alive('alice') && !await tmux.alive('bob'), SCREEN_WAIT_MS, () => 'both panes to close')
  t.equal((await readFile(aliceStatus, 'utf8')).trim(), '0', 'alice\'s chat exited 0 on /quit')
  t.equal((await readFile(bobStatus, 'utf8')).trim(), '0', 'bob\'s chat exited 0 on Ctrl-C')
  for (const [who, file] of [['alice', aliceStatus], ['bob', bobStatus]]) {
    const stty = await readFile(file + '.stty', 'utf8')
    t.match(stty, /(^|\s)icanon(\s|$)/, `${who}'s terminal is back in line mode`)
    t.match(stty, /(^|\s)echo(\s|$)/, `${who}'s terminal echoes again`)
  }
}
