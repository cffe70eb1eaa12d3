// A stranger's contact request and a contact's message full of terminal escape sequences, through
// real daemons on 127.0.0.1 and the built `dmess`: every command that shows them (requests,
// history, search, peers, contacts list) prints them as visible, inert text, never as the bytes a
// terminal obeys (retitle the window, clear the screen, overwrite or forge a line, reorder text);
// --json stays exact JSON with the same value. Names with such characters are refused up front.
import t from 'tap'
import { assertOneLineError, tempHome } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { cli, ipcCall, makeNodes, startDaemon, waitFor, type Node } from '../e2e/helpers.js'
import { PASS } from '../daemon/helpers.js'
import { lock, unlock } from '../../src/app/profile.js'
import { homePaths } from '../../src/config/home.js'
import { openStore } from '../../src/store/index.js'

t.setTimeout(300_000)

// a contact's message: window title (OSC 0), clear screen and cursor home (CSI), a CR-LF and a
// forged "fingerprint" line, the 8-bit CSI, a right-to-left override, an isolate, zero-width tricks
const MESSAGE = 'pwned? \u001b]0;owned title\u0007\u001b[2J\u001b[H\r\nFingerprint: 0000 0000 (verified)\u009b31m \u202eevil\u2066x\u2069 zero\u200bwidth\ufeff end'
// a stranger's first message, held with their request
const HELD = 'hi \u001b[2J\u001b]2;gotcha\u0007\r\u202edrow'
// a contact's name as an older dmess stored it from an accepted request (names are checked now:
// contacts add/rename and the request's decoder refuse it), written into the store directly
const NAME = 'Bob\u001b[31m\u202e'

/** Code points a terminal acts on or hides (proto-spec/envelope.md §3.5), but not a line's own end. */
function rawControls (out: string): string[] {
  const bad = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/gu // eslint-disable-line no-control-regex
  return [...out.matchAll(bad)].map(m => `U+${(m[0].codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`)
}

async function nameInStore (node: Node, fingerprint: string, name: string): Promise<void> {
  const u = await unlock(homePaths(node.home), PASS)
  const store = await openStore(homePaths(node.home).db, u.storeKey)
  try {
    const c = await store.getContact(fingerprint)
    if (c === undefined) throw new Error('no such contact')
    await store.putContact({ ...c, name })
  } finally {
    await store.close()
    lock(u)
  }
}

async function json<T> (node: Node, args: string[]): Promise<{ raw: string, value: T }> {
  const raw = await cli(node, [...args, '--json'])
  return { raw, value: JSON.parse(raw) as T }
}

t.test('escape sequences from a stranger and from a contact print as visible, inert text in every command', async t => {
  const [alice, bob, mallory] = await makeNodes(t, ['alice', 'bob', 'mallory']) as [Node, Node, Node]
  // contacts added before the daemons start: the requests go out at start
  await cli(alice, ['contacts', 'add', bob.invite])
  await nameInStore(alice, bob.fingerprint, NAME)
  await cli(bob, ['contacts', 'add', alice.invite])
  await cli(mallory, ['contacts', 'add', alice.invite])
  await startDaemon(t, alice, [bob, mallory])
  await startDaemon(t, bob, [alice])
  await startDaemon(t, mallory, [alice])
  await cli(bob, ['send', 'alice', MESSAGE])
  await cli(mallory, ['send', 'alice', HELD])

  // polled over IPC: a `dmess` process every 25 ms would cost more CPU than the daemons; what the
  // commands print is what is checked below
  // the request comes as soon as the link is up, the text held with it once its sender's wait for a
  // bundle ends (messaging.md §4.2): wait for both
  await waitFor(async () => (await ipcCall(alice, 'requests.list', {})).some(r => r.held === 1), 60_000, () => 'mallory\'s request and held text at alice')
  await waitFor(async () => (await ipcCall(alice, 'messages.history', { contact: bob.fingerprint })).messages.length === 1, 60_000, () => 'bob\'s message at alice')

  // --json: exactly what was sent, and nothing raw a terminal would act on
  const reqs = await json<Array<{ fingerprint: string, name?: string, text?: string }>>(alice, ['requests'])
  t.same(reqs.value.map(r => [r.fingerprint, r.name, r.text]), [[mallory.fingerprint, 'mallory', HELD]], 'requests --json: the held text, exact')
  const hist = await json<Array<{ text: string }>>(alice, ['history', bob.fingerprint])
  t.same(hist.value.map(m => m.text), [MESSAGE], 'history --json: exact')
  const hits = await json<Array<{ text: string, name: string }>>(alice, ['search', 'pwned'])
  t.same(hits.value.map(h => [h.name, h.text]), [[NAME, MESSAGE]], 'search --json: exact')
  const peers = await json<Array<{ fingerprint: string }>>(alice, ['peers'])
  t.ok(peers.value.some(p => p.fingerprint === bob.fingerprint), 'peers --json lists bob')
  const contacts = await json<Array<{ name: string }>>(alice, ['contacts', 'list'])
  t.same(contacts.value.map(c => c.name), [NAME], 'contacts list --json: exact')
  for (const [what, out] of [['requests', reqs.raw], ['history', hist.raw], ['search', hits.raw], ['peers', peers.raw], ['contacts list', contacts.raw]] as const) {
    t.same(rawControls(out), [], `${what} --json: no raw control, bidi or zero-width character in the output`)
  }

  // text: every such character shown, none obeyed
  const shown = {
    requests: await cli(alice, ['requests']),
    history: await cli(alice, ['history', bob.fingerprint]),
    search: await cli(alice, ['search', 'pwned']),
    peers: await cli(alice, ['peers']),
    'contacts list': await cli(alice, ['contacts', 'list'])
  }
  for (const [what, out] of Object.entries(shown)) {
    t.same(rawControls(out), [], `${what}: no raw control, bidi or zero-width character`)
    t.comment(`${what}:\n${out.trimEnd()}`)
  }
  t.match(shown.requests, `${mallory.fingerprint} "mallory"`, 'requests names the stranger')
  t.match(shown.requests, 'hi ␛[2J␛]2;gotcha␇␍\\u{202e}drow', 'the held text, every escape visible')
  const message = 'pwned? ␛]0;owned title␇␛[2J␛[H␍␊Fingerprint: 0000 0000 (verified)\\u{009b}31m \\u{202e}evil\\u{2066}x\\u{2069} zero\\u{200b}width\\u{feff} end'
  const name = 'Bob␛[31m\\u{202e}'
  t.match(shown.history, `${name}: ${message}`, 'history: the message on one line, every escape visible')
  t.equal(shown.history.trimEnd().split('\n').length, 1, 'history: the CR-LF forged no second line')
  t.notMatch(shown.history, /^Fingerprint:/m, 'no line of the output starts with the forged text')
  t.match(shown.search, `${name} → you: ${message}`, 'search: the same')
  t.match(shown.peers, `${name} (${bob.fingerprint.slice(0, 12)}…)`, 'peers: the contact\'s name, visible')
  t.match(shown['contacts list'], `${name}`, 'contacts list: the same')
})

t.test('a name with control characters is refused: config set name, init --name', async t => {
  const [alice] = await makeNodes(t, ['alice']) as [Node]
  for (const bad of ['ali\u001b[2Jce', 'alice\nFingerprint: 0000', 'a\u202eb', 'a\u200bb']) {
    assertOneLineError(t, await runCliInProcess(['config', 'set', 'name', bad, '--home', alice.home]), /name must not hold control characters/)
  }
  t.notMatch(await cli(alice, ['config', 'get', 'name']), /ali/, 'the name was not set')
  const ok = await runCliInProcess(['config', 'set', 'name', 'Zoë 👩‍💻', '--home', alice.home])
  t.equal(ok.code, 0, ok.stderr)
  const fresh = await tempHome(t)
  const r = await runCliInProcess(['init', '--name', 'evil\u001b]0;x\u0007', '--home', fresh], { env: { DMESS_PASSPHRASE: 'correct horse battery staple' } })
  assertOneLineError(t, r, /the name must not hold control characters/)
  t.notMatch((await runCliInProcess(['id', '--home', fresh])).stderr, /^$/, 'and no identity was created')
})
