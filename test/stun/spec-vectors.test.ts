// proto-spec/stun.md §7: our own Binding request and answers, byte for byte from the code, and the
// spec page shows the same bytes.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { decodeStun, encodeStun, type StunMessage } from '../../src/stun/codec.js'
import { StunServer } from '../../src/stun/server.js'
import { Attr, METHOD_BINDING } from '../../src/stun/constants.js'

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const decoded = (b: Uint8Array): StunMessage => { const r = decodeStun(b); if (!r.ok) throw new Error(r.reason); return r.message }
const spec = readFileSync(new URL('../../proto-spec/stun.md', import.meta.url), 'utf8')
// the §7 blocks with comments and spacing removed
const specHex = spec.slice(spec.indexOf('## 7. Vectors')).split('\n').filter(l => l.startsWith('    ')).map(l => l.trim().split(/\s{2,}/)[0]!.replace(/\s/g, '')).join('')

const tid = ascii('dmess-stun-1')
const request = encodeStun({ method: METHOD_BINDING, cls: 'request', transactionId: tid, fingerprint: true })
const legacy = encodeStun({ method: METHOD_BINDING, cls: 'request', transactionId: ascii('dmess-rfc3489-01') })
const responsePort = encodeStun({ method: METHOD_BINDING, cls: 'request', transactionId: tid, attributes: [{ type: Attr.RESPONSE_PORT, value: Uint8Array.of(0, 53, 0, 0) }], fingerprint: true })
const change = encodeStun({ method: METHOD_BINDING, cls: 'request', transactionId: tid, attributes: [{ type: Attr.CHANGE_REQUEST, value: Uint8Array.of(0, 0, 0, 6) }], fingerprint: true })
const other = { host: '198.51.100.2', port: 3479 }
const v4 = { host: '192.0.2.1', port: 32853 }
const v6 = { host: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 }

const VECTORS: Array<[string, Uint8Array, string]> = [
  ['request', request, '000100082112a442646d6573732d7374756e2d31802800049e535e84'],
  ['answer, IPv4', new StunServer().answer(decoded(request), v4, 0)!, '010100142112a442646d6573732d7374756e2d31002000080001a147e112a64380280004518ecec1'],
  ['answer, IPv6', new StunServer().answer(decoded(request), v6, 0)!, '010100202112a442646d6573732d7374756e2d31002000140002a1470113a9fa7659330b733c5147313b4b46802800046ff1f16e'],
  ['classic request', legacy, '00010000646d6573732d726663333438392d3031'],
  ['classic answer', new StunServer().answer(decoded(legacy), v4, 0)!, '0101000c646d6573732d726663333438392d30310001000800018055c0000201'],
  ['RESPONSE-PORT request', responsePort, '000100102112a442646d6573732d7374756e2d310027000400350000802800047ab1ab80'],
  ['its 420', new StunServer().answer(decoded(responsePort), v4, 0)!, '0111002c2112a442646d6573732d7374756e2d310009001500000414556e6b6e6f776e20417474726962757465000000000a00020027000080280004dec13266'],
  ['CHANGE-REQUEST request', change, '000100102112a442646d6573732d7374756e2d310003000400000006802800048a803441'],
  ['behaviour server answer', new StunServer().answerFrom(decoded(change), v4, 0, other)!.bytes, '010100202112a442646d6573732d7374756e2d31002000080001a147e112a643802c000800010d97c633640280280004eb4c3296']
]

t.test('a behaviour server sends that answer from its other IP and port', async t => {
  const a = new StunServer().answerFrom(decoded(change), v4, 0, other)!
  t.same([a.changeIp, a.changePort], [true, true])
})

t.test('stun.md §7 vectors come out of the code, and the page shows them', async t => {
  for (const [name, bytes, expected] of VECTORS) {
    t.equal(hex(bytes), expected, name)
    t.ok(specHex.includes(expected), `${name}: in stun.md §7`)
  }
})
