// The IPC wire format without sockets: request validation, line framing, error mapping.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT } from '../helpers/cli.js'
import { DmessError, errors } from '../../src/errors.js'
import {
  DMESS_ERROR_NUMBERS, DMESS_ERROR_OTHER, errorFromObject, errorObject, invalidParams, LineSplitter, parseRequest, RPC
} from '../../src/daemon/protocol.js'
import { EventBus } from '../../src/runtime/events.js'

t.test('parseRequest accepts JSON-RPC 2.0 requests and notifications', async t => {
  t.same(parseRequest('{"jsonrpc":"2.0","id":1,"method":"status"}'), { ok: true, request: { jsonrpc: '2.0', method: 'status', id: 1 } })
  t.same(parseRequest('{"jsonrpc":"2.0","id":"a","method":"x","params":{"k":1}}'), { ok: true, request: { jsonrpc: '2.0', method: 'x', params: { k: 1 }, id: 'a' } })
  const note = parseRequest('{"jsonrpc":"2.0","method":"status"}')
  t.ok(note.ok && !('id' in note.request), 'no id: a notification')
})

t.test('parseRequest turns every malformed line into an error answer', async t => {
  const cases: Array<[string, number, unknown]> = [
    ['{not json', RPC.PARSE_ERROR, null],
    ['', RPC.PARSE_ERROR, null],
    ['[{"jsonrpc":"2.0","id":1,"method":"status"}]', RPC.INVALID_REQUEST, null],
    ['42', RPC.INVALID_REQUEST, null],
    ['null', RPC.INVALID_REQUEST, null],
    ['{"jsonrpc":"1.0","id":7,"method":"status"}', RPC.INVALID_REQUEST, 7],
    ['{"jsonrpc":"2.0","id":7}', RPC.INVALID_REQUEST, 7],
    ['{"jsonrpc":"2.0","id":7,"method":""}', RPC.INVALID_REQUEST, 7],
    ['{"jsonrpc":"2.0","id":{"x":1},"method":"status"}', RPC.INVALID_REQUEST, null],
    ['{"jsonrpc":"2.0","id":8,"method":"status","params":[1,2]}', RPC.INVALID_PARAMS, 8],
    ['{"jsonrpc":"2.0","id":8,"method":"status","params":"x"}', RPC.INVALID_PARAMS, 8]
  ]
  for (const [line, code, id] of cases) {
    const r = parseRequest(line)
    t.notOk(r.ok, line)
    if (!r.ok) { t.equal(r.error.code, code, `${line} → ${code}`); t.equal(r.id, id, `${line} answers id ${String(id)}`) }
  }
})

t.test('LineSplitter splits on newlines across chunks and skips an oversized line', async t => {
  const lines: string[] = []
  let oversize = 0
  const s = new LineSplitter(10, l => lines.push(l), () => oversize++)
  s.push(Buffer.from('ab'))
  s.push(Buffer.from('c\nde\r\n\n'))
  t.same(lines, ['abc', 'de'], 'CRLF tolerated, blank lines ignored')
  s.push(Buffer.from('0123456789AB'))
  s.push(Buffer.from('CDEF\nok\n'))
  t.equal(oversize, 1, 'reported once')
  t.same(lines, ['abc', 'de', 'ok'], 'the rest of the long line is dropped, the next line is read')
  // a multi-byte character split across chunks is reassembled
  const euro = Buffer.from('€\n')
  s.push(euro.subarray(0, 1)); s.push(euro.subarray(1))
  t.equal(lines.at(-1), '€')
})

t.test('DmessErrors travel with a stable number and come back as the same DmessError', async t => {
  const e = errorObject(errors.CONTACT_NOT_FOUND('no contact matches "zed"'))
  t.same(e, { code: 205, message: 'no contact matches "zed"', data: { dmessCode: 'CONTACT_NOT_FOUND' } })
  const back = errorFromObject(e)
  t.ok(back instanceof DmessError)
  t.equal(back.code, 'CONTACT_NOT_FOUND')
  t.equal(back.message, 'no contact matches "zed"')

  const custom = errorObject(new DmessError('SOMETHING_NEW', 'later code', 3))
  t.equal(custom.code, DMESS_ERROR_OTHER, 'an unnumbered code still travels')
  t.same(custom.data, { dmessCode: 'SOMETHING_NEW', exitCode: 3 })
  t.equal(errorFromObject(custom).exitCode, 3)

  t.same(errorObject(invalidParams('"who" must be a string')), { code: RPC.INVALID_PARAMS, message: '"who" must be a string' })
  const internal = errorObject(new TypeError('secret detail at /home/x'))
  t.same(internal, { code: RPC.INTERNAL_ERROR, message: 'internal error in the daemon (see its log)' }, 'a bug reveals nothing')
  const plain = errorFromObject({ code: RPC.METHOD_NOT_FOUND, message: 'unknown method "x"' })
  t.equal(plain.code, 'IPC')
  t.match(plain.message, /unknown method "x".*-32601/)
  t.equal(errorFromObject({ code: 1, message: 'm', data: { dmessCode: 'lower; rm -rf' } }).code, 'IPC', 'a malformed code is not trusted')
})

t.test('error numbers are unique, and every current DmessError code is numbered', async t => {
  const nums = Object.values(DMESS_ERROR_NUMBERS)
  t.equal(new Set(nums).size, nums.length, 'no number is used twice')
  t.ok(nums.every(n => n > DMESS_ERROR_OTHER && n < 1000), 'application numbers are 2..999, apart from JSON-RPC codes')
  const unnumbered = Object.keys(errors).filter(k => !(k in DMESS_ERROR_NUMBERS))
  // a new code would still travel (as DMESS_ERROR_OTHER with its dmessCode), but clients that
  // switch on numbers deserve one: number it here and in ipc.md's table in the same commit
  t.same(unnumbered, [], 'every DmessError code has a number')
  for (const k of ['WRONG_PASSPHRASE', 'CONTACT_NOT_FOUND', 'DAEMON_NOT_RUNNING', 'STORE_LOCKED']) t.ok(k in DMESS_ERROR_NUMBERS, k)
})

t.test('EventBus delivers to every listener, survives a throwing one, and unsubscribes', async t => {
  const bus = new EventBus()
  const seen: string[] = []
  const off = bus.on(e => seen.push(`a:${e.type}`))
  bus.on(() => { throw new Error('faulty subscriber') })
  bus.on(e => seen.push(`c:${e.type}`))
  bus.emit({ type: 'message', id: 'm1' })
  t.same(seen, ['a:message', 'c:message'])
  t.equal(bus.listenerErrors, 1)
  off()
  bus.emit({ type: 'typing' })
  t.same(seen, ['a:message', 'c:message', 'c:typing'])
  t.equal(bus.listenerCount, 2)
})

t.test('the error table in proto-spec/ipc.md is the one the code uses', async t => {
  const doc = await readFile(join(ROOT, 'proto-spec', 'ipc.md'), 'utf8')
  const section = /<!-- error-table[^>]*-->([\s\S]*?)<!-- \/error-table -->/.exec(doc)?.[1] ?? ''
  const rows = [...section.matchAll(/^\| (\d+) \| ([A-Z][A-Z0-9_]*) \|$/gm)].map(m => [m[2], Number(m[1])])
  t.ok(rows.length > 10, 'table found')
  t.same(Object.fromEntries(rows), DMESS_ERROR_NUMBERS, 'same codes, same numbers')
  for (const [name, code] of Object.entries(RPC)) t.match(doc, new RegExp(`\\| ${code} \\| ${name} \\|`), `${name} documented`)
})
