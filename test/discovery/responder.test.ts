// The responder's sending rules with a fake socket and clock (discovery.md §3.2): delays for
// shared answers, the once-a-second multicast limit, QU and legacy unicast, the unicast flood cap.
import t from 'tap'
import type { RemoteInfo } from 'node:dgram'
import type { Packet } from 'dns-packet'
import { Responder } from '../../src/discovery/responder.js'
import { localRecords, defaultHostLabel, instanceName } from '../../src/discovery/mdns-records.js'
import { SERVICE_TYPE, UNICAST_ANSWERS_PER_SECOND } from '../../src/discovery/constants.js'
import type { Link } from '../../src/discovery/links.js'

const svc = { token: '00112233445566778899aabbccddeeff', label: '1234567812345678', port: 40000, protocolVersion: 1, hostLabel: defaultHostLabel('1234567812345678') }
const records = localRecords(svc, { ipv4: ['10.9.0.2'], ipv6: [] })
const link: Link = { name: 'eth0', internal: false, ipv4: [{ address: '10.9.0.2', netmask: '255.255.255.0', family: 4 }], ipv6: [] }
const from = (port = 5353): RemoteInfo => ({ address: '10.9.0.3', port, family: 'IPv4', size: 0 })

function harness () {
  let now = 1_000_000
  const sent: Array<{ how: 'multicast' | 'unicast', packet: Packet, to: string }> = []
  const scheduled: Array<{ fn: () => void, ms: number }> = []
  let limited = 0
  const responder = new Responder({
    socket: {
      multicast: async (packet, via) => { sent.push({ how: 'multicast', packet, to: via }) },
      unicast: async (packet, to) => { sent.push({ how: 'unicast', packet, to: `${to.address}:${to.port}` }) }
    },
    now: () => now,
    random: () => 0.5,
    later: (fn, ms) => { scheduled.push({ fn, ms }) },
    onSent: () => {},
    onError: () => {},
    onLimited: () => { limited++ }
  })
  return {
    responder,
    sent,
    scheduled,
    limited: () => limited,
    advance: (ms: number) => { now += ms }
  }
}

const query = (name: string, type: string, cls = 'IN', id = 0): Packet =>
  ({ type: 'query', id, questions: [{ name, type, class: cls }] } as unknown as Packet)

t.test('a PTR answer is multicast after a 20–120 ms delay, with additionals', async (t) => {
  const h = harness()
  h.responder.answer(query(SERVICE_TYPE, 'PTR'), from(), link, records)
  t.equal(h.sent.length, 0, 'nothing at once')
  t.equal(h.scheduled.length, 1)
  t.equal(h.scheduled[0]?.ms, 70, '20 + 0.5 × 100 ms')
  h.scheduled[0]?.fn()
  t.equal(h.sent[0]?.how, 'multicast')
  t.equal(h.sent[0]?.to, '10.9.0.2', 'out of the link the query came in on')
  t.same(h.sent[0]?.packet.answers, [records.ptr])
  t.same(h.sent[0]?.packet.additionals, [records.srv, records.txt, ...records.addresses])
})

t.test('unique answers go at once, and a record is multicast at most once a second', async (t) => {
  const h = harness()
  const srvQ = query(instanceName(svc), 'SRV')
  h.responder.answer(srvQ, from(), link, records)
  t.equal(h.sent.length, 1)
  h.advance(999)
  h.responder.answer(srvQ, from(), link, records)
  t.equal(h.sent.length, 1, 'asked again within a second: silence')
  h.advance(1)
  h.responder.answer(srvQ, from(), link, records)
  t.equal(h.sent.length, 2, 'after a second: answered')
})

t.test('QU: unicast answer; multicast too only if the link has not heard it for TTL/4 (RFC 6762 §5.4)', async (t) => {
  const h = harness()
  const qu = query(instanceName(svc), 'SRV', 'UNKNOWN_32769')
  h.responder.answer(qu, from(), link, records)
  t.same(h.sent.map(s => `${s.how} ${s.to}`), ['unicast 10.9.0.3:5353', 'multicast 10.9.0.2'], 'never multicast before: both')
  h.advance(10_000)
  h.responder.answer(qu, from(), link, records)
  t.same(h.sent.slice(2).map(s => s.how), ['unicast'], '10 s after a multicast (TTL 120 s): unicast only')
  h.advance(21_000)
  h.responder.answer(qu, from(), link, records)
  t.same(h.sent.slice(3).map(s => s.how), ['unicast', 'multicast'], 'over 30 s: multicast again')
})

t.test('legacy resolvers get unicast with their id; unicast answers are capped per second', async (t) => {
  const h = harness()
  h.responder.answer(query(instanceName(svc), 'TXT', 'IN', 99), from(40000), link, records)
  t.equal(h.sent[0]?.how, 'unicast')
  t.equal(h.sent[0]?.to, '10.9.0.3:40000')
  t.equal(h.sent[0]?.packet.id, 99)
  for (let i = 0; i < UNICAST_ANSWERS_PER_SECOND + 4; i++) {
    h.responder.answer(query(instanceName(svc), 'TXT', 'IN', i), from(40000), link, records)
  }
  t.equal(h.sent.length, UNICAST_ANSWERS_PER_SECOND, `at most ${UNICAST_ANSWERS_PER_SECOND} a second`)
  t.equal(h.limited(), 5, 'the rest counted as rate-limited')
  h.advance(1000)
  h.responder.answer(query(instanceName(svc), 'TXT', 'IN', 1), from(40000), link, records)
  t.equal(h.sent.length, UNICAST_ANSWERS_PER_SECOND + 1, 'a new second, a new allowance')
})

t.test('questions about others are not answered', async (t) => {
  const h = harness()
  h.responder.answer(query('_http._tcp.local', 'PTR'), from(), link, records)
  h.responder.answer(query(`other.${SERVICE_TYPE}`, 'SRV'), from(), link, records)
  t.equal(h.sent.length + h.scheduled.length, 0)
})
