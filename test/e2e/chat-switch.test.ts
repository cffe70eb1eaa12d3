// `dmess chat` beyond one conversation, in a real terminal (tmux, fixtures/tmux.ts): alice's chat
// with bob stays open while a stranger's contact request arrives (a notice and a bell), is listed
// and accepted from inside the chat, the new contact's messages ring the bell and count as unread
// in the header, /c switches to that conversation and back, the header shows the verified mark as
// it changes, and bob's daemon stopping turns "online" into "offline · last seen just now".
// Three daemons as processes (alice, bob, and carol, whom alice does not know) on 127.0.0.1.
import { type Test } from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempHome } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { makeNodes, startDaemon, ipcCall, waitFor, PW, type Node } from './helpers.js'
import { chatCommand, SCREEN_WAIT_MS, Tmux, tmuxTest } from './fixtures/tmux.js'

tmuxTest('dmess chat: a request answered in place, unread elsewhere with a bell, /c and back, verified mark, last seen', switchTest)

async function addContact (t: Test, me: Node, them: Node): Promise<void> {
  const r = await runCliInProcess(['contacts', 'add', them.invite, '--name', them.name, '--home', me.home], { env: PW })
  t.equal(r.code, 0, `${me.name} adds ${them.name}: ${r.stdout.trim()}${r.stderr.trim()}`)
}

async function send (from: Node, to: string, text: string): Promise<void> {
  await ipcCall(from, 'messages.send', { contact: to, text })
}

async function switchTest (t: Test): Promise<void> {
  const t0 = Date.now()
  const mark = (step: string): void => { t.comment(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${step}`) }
  const [alice, bob, carol] = await makeNodes(t, ['alice', 'bob', 'carol']) as [Node, Node, Node]
  // alice and bob know each other; carol knows alice, alice does not know carol: a stranger
  await Promise.all([addContact(t, alice, bob), addContact(t, bob, alice), addContact(t, carol, alice)])
  const [, bobPid] = await Promise.all([startDaemon(t, alice, [bob]), startDaemon(t, bob, [alice]), startDaemon(t, carol, [alice])])
  mark('three daemons running')
  // carol's daemon introduces itself to alice as soon as it reaches her (a contact added while no
  // daemon ran gets our CONTACT_REQUEST, messaging.md §3.1): a request with no words yet. Let it
  // land before the chat opens, so that it is part of the chat's first screen, not news with a bell
  await waitFor(async () => (await ipcCall(alice, 'requests.list', {}) as Array<{ fingerprint: string }>).some(r => r.fingerprint === carol.fingerprint), 60_000, () => 'carol\'s introduction at alice')

  const dir = await tempHome(t)
  const tmux = new Tmux(join(dir, 'tmux.sock'))
  t.teardown(async () => { await tmux.kill() })
  const status = join(dir, 'alice.status')
  await tmux.start('alice', chatCommand(alice.home, 'bob', status), join(dir, 'alice.out'))

  await tmux.waitFor('alice', /dmess · bob \(\w{12}…\) · ● online · unverified/, 'bob online and not yet verified in the header')
  t.equal(await tmux.bells('alice'), 0, 'no bell yet')
  // verified from another terminal: the open chat's header follows
  await ipcCall(alice, 'contacts.verify', { contact: 'bob', set: true })
  await tmux.waitFor('alice', /● online · ✓ verified/, 'the verified mark in the header')
  mark('chat open, verified mark shown')

  // a stranger writes: a request, announced inside the chat with a bell
  const carolFp = carol.fingerprint.slice(0, 12)
  // the request shows the name carol's node offered, quoted (her claim), and her fingerprint
  const asked = `(?:"carol" \\()?${carolFp}…\\)?`
  await send(carol, 'alice', 'hello from carol')
  await tmux.waitFor('alice', new RegExp(`contact request from ${asked}: "hello from carol"`), 'the request notice')
  await tmux.waitFor('alice', /· 1 request/, 'the request count in the header')
  await waitFor(async () => await tmux.bells('alice') >= 1, SCREEN_WAIT_MS, () => 'a bell for the request')
  await tmux.line('alice', '/requests')
  await tmux.waitFor('alice', new RegExp(`1\\. ${asked}: "hello from carol"`), 'the request listed')
  await tmux.press('alice', 'Escape')
  // the panel closed before typing on: an Escape and a '/' read together are Alt-/ (a meta key), not
  // Escape, which a busy clean-clone run hit (the panel stayed open over the conversation)
  await waitFor(async () => !/contact requests · Esc closes/.test(await tmux.screen('alice')), SCREEN_WAIT_MS, () => 'the requests panel closed')
  await tmux.line('alice', '/accept 1')
  await tmux.waitFor('alice', new RegExp(`accepted ${asked}: now a contact`), 'the request accepted')
  const contact = (await ipcCall(alice, 'contacts.list', {})).find(c => c.fingerprint === carol.fingerprint)
  t.ok(contact, 'carol is one of alice\'s contacts')
  const carolLabel = contact?.name ?? `${carolFp}…`
  // her held message moved into a conversation of its own: unread there, not here
  await tmux.waitFor('alice', new RegExp(`· 1 unread: ${carolLabel} 1`), 'carol\'s message unread in the header')
  t.notMatch(await tmux.screen('alice'), /request/, 'no request left in the header')
  mark('request accepted in the chat')

  const bellsBefore = await tmux.bells('alice')
  await send(carol, 'alice', 'second from carol')
  await tmux.waitFor('alice', new RegExp(`${carolLabel}: second from carol`), 'a notice with carol\'s new message')
  await tmux.waitFor('alice', new RegExp(`· 2 unread: ${carolLabel} 2`), 'two unread from carol')
  await waitFor(async () => await tmux.bells('alice') > bellsBefore, SCREEN_WAIT_MS, () => 'a bell for carol\'s message')
  t.notMatch(await tmux.screen('alice'), /\d\d:\d\d \S+: (hello|second) from carol/, 'carol\'s messages are not drawn in bob\'s conversation')

  // switch without leaving; the conversation there is marked read
  await tmux.line('alice', `/c ${carolFp}`)
  await tmux.waitFor('alice', new RegExp(`dmess · (carol \\()?${carolFp}…\\)? · ● online`), 'carol\'s conversation open')
  const screen = await tmux.waitFor('alice', new RegExp(`\\d\\d:\\d\\d ${carolLabel}: second from carol`), 'carol\'s messages on screen')
  t.match(screen, new RegExp(`${carolLabel}: hello from carol`), 'the accepted request\'s message starts the conversation')
  t.notMatch(screen, /unread/, 'nothing unread elsewhere')
  await waitFor(async () => (await ipcCall(alice, 'messages.conversations', {})).every(c => c.unread === 0), SCREEN_WAIT_MS, () => 'carol\'s messages marked read')

  // bob writes while alice is with carol; /c alone goes where the unread messages are
  await send(bob, 'alice', 'bob while you were away')
  await tmux.waitFor('alice', /· 1 unread: bob 1/, 'bob\'s message counted in carol\'s header')
  await tmux.line('alice', '/c')
  await tmux.waitFor('alice', /dmess · bob \(\w{12}…\) · ● online · ✓ verified/, 'back with bob')
  await tmux.waitFor('alice', /bob: bob while you were away/, 'bob\'s message shown')
  mark('switched to carol and back')

  // bob's node goes away: no "connecting" forever, but offline with when he was last seen
  process.kill(bobPid, 'SIGTERM')
  await tmux.waitFor('alice', /bob \(\w{12}…\) · ○ offline · last seen just now/, 'bob offline, last seen just now', 45_000)
  mark('bob offline')

  await tmux.line('alice', '/quit')
  await waitFor(async () => !await tmux.alive('alice'), SCREEN_WAIT_MS, () => 'the pane to close')
  t.equal((await readFile(status, 'utf8')).trim(), '0', 'the chat exited 0')
}
