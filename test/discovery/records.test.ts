// Our record set and our answers to questions (discovery.md §2, §3), checked as data and after a
// round trip through dns-packet, the codec multicast-dns puts on the wire.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import packet from 'dns-packet'
import type { Answer, Packet } from 'dns-packet'
import {
  localRecords, allRecords, announcement, goodbye, planResponse, responsePacket, browseQuery,
  instanceName, hostName, normalizeHostLabel, defaultHostLabel, checkLocalService, questionClass,
  suppressedByKnownAnswer, type LocalService
} from '../../src/discovery/mdns-records.js'
import { parseDiscoveryTxt } from '../../src/discovery/mdns-parse.js'
import { SERVICE_TYPE, SERVICES_ENUMERATION, MAX_LABEL_BYTES } from '../../src/discovery/constants.js'
import { newFingerprint, ROOT } from './fixtures/helpers.js'
import { discoveryToken, tokenKey, tokenWindow } from '../../src/discovery/token.js'

const fp = newFingerprint()
const token = discoveryToken(tokenKey(fp), tokenWindow(Date.now()))
const svc: LocalService = { token, label: '0a1b2c3d4e5f6071', port: 40123, protocolVersion: 1, hostLabel: defaultHostLabel('0a1b2c3d4e5f6071') }
const addrs = { ipv4: ['10.0.0.7'], ipv6: ['fd00::7'] }
const records = localRecords(svc, addrs)
const ttl = (a: Answer): number => (a as { ttl?: number }).ttl ?? -1
const flush = (a: Answer): boolean => (a as { flush?: boolean }).flush === true
const roundTrip = (p: Packet): Packet => packet.decode(packet.encode(p))

t.test('names: instance and host labels fit in a DNS label and carry the random label, no fingerprint', async (t) => {
  const inst = instanceName(svc)
  t.ok(inst.endsWith(`.${SERVICE_TYPE}`))
  const label = inst.slice(0, -SERVICE_TYPE.length - 1)
  t.ok(Buffer.byteLength(label) <= MAX_LABEL_BYTES, `instance label ${label} ≤ 63 bytes`)
  t.equal(label, '0a1b2c3d4e5f6071')
  t.equal(hostName(svc), 'dmess-0a1b2c3d4e5f6071.local')
  t.ok(hostName(svc).endsWith('.local'))
  t.ok(Buffer.byteLength(svc.hostLabel) <= MAX_LABEL_BYTES)
  t.equal(normalizeHostLabel('Box-1.local'), 'box-1')
  t.equal(normalizeHostLabel('box'), 'box')
  for (const bad of ['a.b', 'x'.repeat(64), '-x', 'x-', '', 'sp ace']) {
    t.throws(() => normalizeHostLabel(bad), { code: 'BAD_ARGUMENT' }, `'${bad}' rejected`)
  }
  t.throws(() => checkLocalService({ ...svc, port: 0 }), { code: 'BAD_ARGUMENT' })
  t.throws(() => checkLocalService({ ...svc, label: 'xyz' }), { code: 'BAD_ARGUMENT' })
  t.throws(() => checkLocalService({ ...svc, token: fp }), { code: 'BAD_ARGUMENT' })
  t.throws(() => checkLocalService({ ...svc, protocolVersion: 64 }), { code: 'BAD_ARGUMENT' })
  t.throws(() => checkLocalService({ ...svc, ttl: 0 }), { code: 'BAD_ARGUMENT' })
})

t.test('record set: PTRs shared, SRV/TXT/A/AAAA unique with cache-flush, RFC 6762 §10 TTLs', async (t) => {
  t.same(records.enumeration, { name: SERVICES_ENUMERATION, type: 'PTR', ttl: 4500, data: SERVICE_TYPE })
  t.same(records.ptr, { name: SERVICE_TYPE, type: 'PTR', ttl: 4500, data: instanceName(svc) })
  t.notOk(flush(records.enumeration) || flush(records.ptr), 'no cache-flush on shared records')
  t.ok([records.srv, records.txt, ...records.addresses].every(flush), 'cache-flush on unique records')
  t.equal(ttl(records.srv), 120)
  t.equal(ttl(records.txt), 4500)
  t.same(records.addresses.map(a => [a.type, ttl(a), (a as { data: string }).data]), [['A', 120, '10.0.0.7'], ['AAAA', 120, 'fd00::7']])
  t.same((records.srv as { data: unknown }).data, { priority: 0, weight: 0, port: 40123, target: hostName(svc) })
  const short = localRecords({ ...svc, ttl: 5 }, addrs)
  t.ok(allRecords(short).every(a => ttl(a) === 5), 'ttl option applies to every record')
})

t.test('TXT carries t and v, and reads back through dns-packet; nothing holds the fingerprint', async (t) => {
  const strings = (records.txt as { data: Buffer[] }).data.map(b => b.toString())
  t.same(strings, [`t=${token}`, 'v=1'])
  const ann = roundTrip(announcement(records))
  const decoded = ann.answers?.find(a => a.type === 'TXT')
  t.same(parseDiscoveryTxt((decoded as { data: Buffer[] }).data), { token, protocolVersion: 1 })
  const wire = Buffer.from(packet.encode(announcement(records))).toString('latin1')
  for (let i = 0; i + 8 <= fp.length; i++) t.notOk(wire.includes(fp.slice(i, i + 8)), `no 8-character piece of the fingerprint at ${i}`)
})

t.test('announcement holds every record; goodbye is the same with TTL 0 (RFC 6762 §8.3, §10.1)', async (t) => {
  const ann = roundTrip(announcement(records))
  t.equal(ann.type, 'response')
  t.equal(ann.answers?.length, 6)
  t.ok(ann.answers?.filter(a => a.type !== 'PTR').every(flush), 'flush bit survives the wire')
  const bye = roundTrip(goodbye(allRecords(records)))
  t.ok(bye.answers?.every(a => ttl(a) === 0))
  t.equal(bye.answers?.length, 6)
})

const q = (name: string, type: string, cls = 'IN'): Packet =>
  ({ type: 'query', id: 77, flags: 0, questions: [{ name, type, class: cls }] } as unknown as Packet)

t.test('answers: PTR browse gets SRV, TXT and addresses as additionals (RFC 6763 §12.1)', async (t) => {
  const plan = planResponse(q(SERVICE_TYPE, 'PTR'), 5353, records)
  t.ok(plan)
  t.same(plan?.answers, [records.ptr])
  t.same(plan?.additionals, [records.srv, records.txt, ...records.addresses])
  t.equal(plan?.delay, true, 'shared answer: 20–120 ms delay')
  t.equal(plan?.qu, false)
  t.equal(plan?.legacy, false)
})

t.test('answers: enumeration, SRV, TXT, A, AAAA, ANY, and case-insensitive names', async (t) => {
  t.same(planResponse(q(SERVICES_ENUMERATION, 'PTR'), 5353, records)?.answers, [records.enumeration])
  const srv = planResponse(q(instanceName(svc).toUpperCase(), 'SRV'), 5353, records)
  t.same(srv?.answers, [records.srv])
  t.same(srv?.additionals, records.addresses, 'SRV → addresses (RFC 6763 §12.2)')
  t.equal(srv?.delay, false, 'unique answer goes at once')
  t.same(planResponse(q(instanceName(svc), 'TXT'), 5353, records)?.answers, [records.txt])
  t.same(planResponse(q(instanceName(svc), 'ANY'), 5353, records)?.answers, [records.srv, records.txt])
  t.same(planResponse(q(hostName(svc), 'A'), 5353, records)?.answers, [records.addresses[0]])
  t.same(planResponse(q(hostName(svc), 'AAAA'), 5353, records)?.answers, [records.addresses[1]])
  t.same(planResponse(q(hostName(svc), 'ANY'), 5353, records)?.answers, records.addresses)
  t.equal(planResponse(q('_other._tcp.local', 'PTR'), 5353, records), null, 'not ours: silence')
  t.equal(planResponse(q(SERVICE_TYPE, 'PTR', 'CH'), 5353, records), null, 'other class: silence')
})

t.test('QU questions (RFC 6762 §5.4): dns-packet reports the top class bit as UNKNOWN_32769', async (t) => {
  t.same(questionClass({ name: 'x', type: 'A', class: 'UNKNOWN_32769' as 'IN' }), { qu: true, any: false })
  t.same(questionClass({ name: 'x', type: 'A', class: 'UNKNOWN_33023' as 'IN' }), { qu: true, any: true })
  t.same(questionClass({ name: 'x', type: 'A' }), { qu: false, any: false })
  t.equal(questionClass({ name: 'x', type: 'A', class: 'HS' }), null)
  // a real QU question from the wire
  const raw = Buffer.from(packet.encode(q(SERVICE_TYPE, 'PTR')))
  raw.writeUInt16BE(0x8001, raw.length - 2)
  const decoded = packet.decode(raw)
  t.equal(planResponse(decoded, 5353, records)?.qu, true)
})

t.test('known-answer suppression (RFC 6762 §7.1)', async (t) => {
  const withKnown = (knownTtl: number): Packet => ({
    ...q(SERVICE_TYPE, 'PTR'),
    answers: [{ name: SERVICE_TYPE, type: 'PTR', ttl: knownTtl, data: instanceName(svc).toUpperCase() }]
  })
  t.equal(planResponse(roundTrip(withKnown(4500)), 5353, records), null, 'full TTL known: no answer')
  t.equal(planResponse(roundTrip(withKnown(2250)), 5353, records), null, 'exactly half: still suppressed')
  t.ok(planResponse(roundTrip(withKnown(2249)), 5353, records), 'under half: answered again')
  const otherInstance = { ...withKnown(4500), answers: [{ name: SERVICE_TYPE, type: 'PTR', ttl: 4500, data: `x.${SERVICE_TYPE}` }] } as Packet
  t.ok(planResponse(otherInstance, 5353, records), 'someone else’s PTR does not suppress ours')
  const decodedSrv = roundTrip({ type: 'response', answers: [records.srv] }).answers?.[0] as Answer
  t.ok(suppressedByKnownAnswer(records.srv, [decodedSrv]), 'SRV compared by port and target')
  const decodedTxt = roundTrip({ type: 'response', answers: [records.txt] }).answers?.[0] as Answer
  t.ok(suppressedByKnownAnswer(records.txt, [decodedTxt]), 'TXT compared string by string')
  const otherTxt = roundTrip({ type: 'response', answers: [{ ...records.txt, data: ['fp=x'] } as Answer] }).answers?.[0] as Answer
  t.notOk(suppressedByKnownAnswer(records.txt, [otherTxt]))
})

t.test('legacy unicast (RFC 6762 §6.7): id echoed, question repeated, TTL ≤ 10, no cache-flush', async (t) => {
  const query = q(instanceName(svc), 'SRV')
  const plan = planResponse(query, 49152, records)
  t.equal(plan?.legacy, true)
  const res = roundTrip(responsePacket(plan!, query))
  t.equal(res.id, 77)
  t.same(res.questions?.map(x => [x.name, x.type]), [[instanceName(svc), 'SRV']])
  t.ok([...(res.answers ?? []), ...(res.additionals ?? [])].every(a => ttl(a) <= 10 && !flush(a)))
  t.equal(responsePacket({ ...plan!, legacy: false }, query).id, 0, 'multicast responses carry id 0')
})

t.test('browse query asks for PTR _dmess._udp.local with known answers', async (t) => {
  const known: Answer[] = [{ name: SERVICE_TYPE, type: 'PTR', ttl: 4000, data: `a.${SERVICE_TYPE}` }]
  const p = roundTrip(browseQuery(known))
  t.equal(p.type, 'query')
  t.same(p.questions?.map(x => [x.name, x.type, x.class]), [[SERVICE_TYPE, 'PTR', 'IN']])
  t.equal(p.answers?.length, 1)
})

t.test('the announcement vector in proto-spec/discovery.md §2.4 matches our encoder', async (t) => {
  const doc = readFileSync(join(ROOT, 'proto-spec', 'discovery.md'), 'utf8')
  const block = /<!-- vector:begin -->\n```\n([\s\S]*?)```\n<!-- vector:end -->/.exec(doc)?.[1]
  t.ok(block, 'vector block present')
  const field = (k: string): string => new RegExp(`^${k}: (.*)$`, 'm').exec(block ?? '')?.[1] ?? ''
  const hex = (block ?? '').split('announcement:\n')[1]?.replace(/\s+/g, '') ?? ''
  const key = tokenKey(field('fingerprint'))
  t.equal(Buffer.from(key).toString('hex'), field('key'), 'K = HKDF-SHA-256(fingerprint, info)')
  const w = tokenWindow(Number(field('time')))
  t.equal(w, Number(field('window')))
  t.same([discoveryToken(key, w - 1), discoveryToken(key, w), discoveryToken(key, w + 1)],
    [field('token-previous'), field('token'), field('token-next')], 'tokens of the window and its neighbours')
  const v: LocalService = {
    token: field('token'), label: field('label'), port: Number(field('port')), protocolVersion: 1,
    hostLabel: defaultHostLabel(field('label'))
  }
  t.equal(instanceName(v), field('instance'))
  t.equal(hostName(v), field('host'))
  const ours = packet.encode({ ...announcement(localRecords(v, { ipv4: [field('ipv4')], ipv6: [] })), flags: packet.AUTHORITATIVE_ANSWER })
  t.equal(Buffer.from(ours).toString('hex'), hex, 'byte for byte')
  const decoded = packet.decode(Buffer.from(hex, 'hex'))
  t.same(parseDiscoveryTxt((decoded.answers?.find(a => a.type === 'TXT') as { data: Buffer[] }).data),
    { token: field('token'), protocolVersion: 1 })
})
