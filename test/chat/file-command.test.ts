// `/file <path>` in the chat (proto-spec/files.md): the file is offered through the backend and a
// notice says so; without a path, or without a backend that can send files, a notice says why.
import t from 'tap'
import { ChatController } from '../../src/chat/controller.js'
import { FakeBackend } from './fakes.js'
import { BOB, T0 } from './helpers.js'

class FileBackend extends FakeBackend {
  readonly files: Array<[string, string]> = []
  async sendFile (peer: string, path: string): Promise<{ id: string, name: string, size: number, state: string }> {
    if (path.endsWith('/')) throw new Error(`${path} is a directory: send the files in it, or an archive of it`)
    this.files.push([peer, path])
    return { id: 'ab'.repeat(16), name: 'report.pdf', size: 2048, state: 'offered' }
  }
}

function chat (backend: FakeBackend): ChatController {
  return new ChatController(backend, { peer: BOB, messages: [], presence: 'online', hasOlder: false, cols: 80, rows: 24 }, { now: () => T0 })
}
const line = (c: ChatController, s: string): void => {
  c.dispatch({ type: 'key', key: { name: 'text', text: s }, now: c.now })
  c.dispatch({ type: 'key', key: { name: 'enter' }, now: c.now })
}

t.test('/file <path> offers the file and says so; nothing is sent as a message', async t => {
  const backend = new FileBackend(BOB, () => T0)
  const c = chat(backend)
  line(c, '/file ~/docs/report.pdf')
  await c.settle(1000)
  t.same(backend.files, [[BOB.fingerprint, '~/docs/report.pdf']])
  t.same(backend.callsOf('send'), [], 'not a text message')
  t.match(c.state.notice, { text: /report\.pdf \(2048 bytes\) offered/, kind: 'info' })
  t.equal(c.state.input.text, '', 'the line is cleared')

  line(c, '/file /tmp/')
  await c.settle(1000)
  t.match(c.state.notice, { text: /could not send \/tmp\/: .*is a directory/, kind: 'error' })
})

t.test('/file without a path, or where files cannot be sent: a notice', async t => {
  const c = chat(new FileBackend(BOB, () => T0))
  line(c, '/file')
  t.match(c.state.notice, { text: /\/file <path>/, kind: 'error' })
  const plain = chat(new FakeBackend(BOB, () => T0))
  line(plain, '/file x')
  await plain.settle(1000)
  t.match(plain.state.notice, { text: /files cannot be sent from here/, kind: 'error' })
})
