// Composing in `dmess chat`, in a real terminal (tmux, fixtures/tmux.ts) 70 columns wide: /help is
// wrapped, not cut, and names the same delivery marks the screen draws; Ctrl-J and Alt-Enter put
// a line break in a message and Enter sends it; /search lists matches; /reply quotes a message
// by how far back it is; a line typed before the chat has drawn anything is sent. One daemon:
// bob is a contact whose node never runs, so the header says he is offline and has never been
// seen, and our messages wait with the "queued" mark.
import { type Test } from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, tempHome } from '../helpers/cli.js'
import { makeNodes, startDaemon, ipcCall, waitFor, PW, type Node } from './helpers.js'
import { chatCommand, SCREEN_WAIT_MS, Tmux, tmuxTest } from './fixtures/tmux.js'

tmuxTest('dmess chat: wrapped /help, multi-line messages, /search, /reply, offline header', composeTest)

const COLS = 70

async function composeTest (t: Test): Promise<void> {
  const [alice, bob] = await makeNodes(t, ['alice', 'bob']) as [Node, Node]
  const added = await runCli(['contacts', 'add', bob.invite, '--name', 'bob', '--home', alice.home], { env: PW })
  t.equal(added.code, 0, `contacts add: ${added.stderr.trim()}`)
  await startDaemon(t, alice, [])

  const dir = await tempHome(t)
  const tmux = new Tmux(join(dir, 'tmux.sock'))
  t.teardown(async () => { await tmux.kill() })
  const status = join(dir, 'alice.status')
  await tmux.start('alice', chatCommand(alice.home, 'bob', status), undefined, { cols: COLS, rows: 30 })
  // never connected: offline, not seen (a "connecting" link is shown as offline after 15 s)
  await tmux.waitFor('alice', /dmess · bob \(\w{12}…\) · ○ offline · not seen yet/, 'bob offline and never seen', 45_000)

  // /help: every line there in full, wrapped at the width, the marks as the screen draws them
  await tmux.line('alice', '/help')
  const help = await tmux.waitFor('alice', /── help · Esc closes/, 'the help panel')
  const flat = help.split('\n').map(l => l.trim()).join(' ')
  t.match(flat, /\/reply <n> \[text\] — quote message n \(1 = the newest\) in your answer; without text, the next line you send/, 'a line longer than the screen, wrapped, not cut')
  t.match(flat, /Marks on your messages: … queued, not yet at their node · ✓ their node has it · ✓✓ delivered to them · ✓✓ read they read it/, 'the marks, as drawn')
  t.ok(help.split('\n').every(l => l.length <= COLS), 'no row wider than the terminal')
  await tmux.press('alice', 'Escape')
  // "No messages yet" shows under the panel too: wait for the panel to be gone, or a key typed
  // next could reach the chat while Esc is still pending and be read as Alt-<key>
  await tmux.waitFor('alice', /^(?![\s\S]*── help · Esc closes)[\s\S]*No messages yet/, 'Esc closes the panel')

  // Ctrl-J and Alt-Enter break the line; Enter sends the whole message
  await tmux.keys('alice', 'first line')
  await tmux.press('alice', 'C-j')
  await tmux.keys('alice', 'second line')
  await tmux.waitFor('alice', /› first line↵second line/, 'the line break shown in the input')
  await tmux.press('alice', 'Enter')
  await tmux.keys('alice', 'third')
  await tmux.press('alice', 'M-Enter')
  await tmux.line('alice', 'fourth')
  const sent = await tmux.waitFor('alice', /^ +fourth …$/m, 'the second message, on two rows, queued')
  t.match(sent, /\d\d:\d\d you: first line\n +second line …\n\d\d:\d\d you: third\n +fourth …/, 'each message on two rows, queued (…) as /help says')

  // /search lists the matches
  await tmux.line('alice', '/search second')
  await tmux.waitFor('alice', /1 message with "second"/, 'the search panel')
  await tmux.waitFor('alice', /you: first line second line/, 'the match listed')
  await tmux.press('alice', 'Escape')

  // /reply 1 quotes the newest message in the next line sent; /reply 2 text answers at once
  await tmux.line('alice', '/reply 1')
  await tmux.waitFor('alice', /↪ replying to > third fourth \(Esc cancels\)/, 'the quote waiting for the answer')
  await tmux.line('alice', 'my answer')
  await tmux.waitFor('alice', /you: > third fourth\n +my answer …/, 'the reply drawn under its quote')
  await tmux.line('alice', '/reply 3 quick answer')
  await tmux.waitFor('alice', /you: > first line second line\n +quick answer …/, 'a reply in one line')
  const history = await ipcCall(alice, 'messages.history', { contact: 'bob', limit: 10 })
  t.same(history.messages.map(m => m.text), ['first line\nsecond line', 'third\nfourth', '> third fourth\nmy answer', '> first line second line\nquick answer'],
    'the stored messages: line breaks kept, replies as "> quote" + newline + answer')

  await tmux.line('alice', '/quit')
  await waitFor(async () => !await tmux.alive('alice'), SCREEN_WAIT_MS, () => 'the pane to close')
  t.equal((await readFile(status, 'utf8')).trim(), '0', 'the chat exited 0')

  // typed ahead, before the chat has drawn anything (the terminal still cooked, echoing, its Enter
  // made LF): the line is sent, not left in the input with a line break (src/chat/tty.ts)
  await tmux.start('again', chatCommand(alice.home, 'bob', status), undefined, { cols: COLS, rows: 30 })
  await tmux.line('again', 'typed before the screen')
  await tmux.waitFor('again', /you: typed before the screen …/, 'the typed-ahead line sent')
  await tmux.line('again', '/quit')
  await waitFor(async () => !await tmux.alive('again'), SCREEN_WAIT_MS, () => 'the second pane to close')
}
