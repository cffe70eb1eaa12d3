// Validation of what arrives from the link (discovery.md §4): every malformed or absurd record
// becomes a counted drop, never an exception and never a peer.
import t from 'tap'
import packet from 'dns-packet'
import type { Answer, Packet } from 'dns-packet'
import {
  parseTxt, parseDiscoveryTxt, parseInstanceName, parseHostName, usableAddress, checkResponseHeader,
  checkQueryHeader, extractObservations, isOnLink, ipBytes, clampTtl, type Observation
} from '../../src/discovery/mdns-parse.js'
import { localRecords, announcement, defaultHostLabel, instanceName, hostName } from '../../src/discovery/mdns-records.js'
import { SERVICE_TYPE, MAX_ACCEPTED_TTL_S } from '../../src/discovery/constants.js'
import { newFingerprint } from './fixtures/helpers.js'
import { discoveryToken, tokenKey } from '../../src/discovery/token.js'

const fp = newFingerprint()
const tok = discoveryToken(tokenKey(fp), 1963584)
const svc = { token: tok, label: 'deadbeef00112233', port: 41000, protocolVersion: 1, hostLabel: defaultHostLabel('deadbeef00112233') }
const records = localRecords(svc, { ipv4: ['192.168.5.9'], ipv6: ['fe80::1', '2001:db8::9'] })
const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const lan = { address: '192.168.5.9', port: 5353 }
const wire = (p: Packet): Packet => packet.decode(packet.encode(p))
const none = (): boolean => false

t.test('parseTxt follows RFC 6763 §6', async (t) => {
  const f = parseTxt([b('FP=abc'), b('fp=second'), b('=nokey'), b('flag'), b(''), b('v=1=2')])
  t.ok(f)
  t.equal(f?.get('fp')?.toString(), 'abc', 'keys are case-insensitive; the first occurrence wins')
  t.equal(f?.get('flag'), null, 'a key without = is a boolean attribute')
  t.equal(f?.get('v')?.toString(), '1=2', 'the value is everything after the first =')
  t.equal(f?.size, 3, 'strings without a key are ignored')
  t.equal(parseTxt([b('k\x01=v')]), null, 'non-printable key: malformed')
  t.equal(parseTxt(['fp=x']), null, 'not byte strings: malformed')
  t.equal(parseTxt(Array.from({ length: 6 }, () => Buffer.alloc(255, 0x61))), null, 'over 1300 bytes: absurd')
  t.equal(parseTxt([b('longerthannine=1')])?.size, 0, 'keys over 9 characters are ignored')
})

t.test('parseDiscoveryTxt wants a 32-hex token and a version 1..63', async (t) => {
  t.same(parseDiscoveryTxt([b(`t=${tok}`), b('v=1'), b('n=deadbeef'), b('future=x')]), { token: tok, protocolVersion: 1 })
  t.same(parseDiscoveryTxt([b(`t=${tok}`), b('v=63')]), { token: tok, protocolVersion: 63 })
  const bad: Array<[string, string[]]> = [
    ['no t', ['v=1']],
    ['an old node\'s fp instead of t', [`fp=${fp}`, 'v=1']],
    ['no v', [`t=${tok}`]],
    ['t too short', [`t=${tok.slice(1)}`, 'v=1']],
    ['t upper case', [`t=${tok.toUpperCase()}`, 'v=1']],
    ['t not hex', [`t=${'g'.repeat(32)}`, 'v=1']],
    ['t boolean', ['t', 'v=1']],
    ['v=0', [`t=${tok}`, 'v=0']],
    ['v=64', [`t=${tok}`, 'v=64']],
    ['v=01', [`t=${tok}`, 'v=01']],
    ['v=x', [`t=${tok}`, 'v=x']]
  ]
  for (const [why, strings] of bad) t.equal(parseDiscoveryTxt(strings.map(b)), null, why)
})

t.test('names: one label under _dmess._udp.local, hosts under .local, lengths bounded', async (t) => {
  t.equal(parseInstanceName(`Ab-1.${SERVICE_TYPE}`.toUpperCase()), `ab-1.${SERVICE_TYPE}`)
  t.equal(parseInstanceName(`a.b.${SERVICE_TYPE}`), null, 'a dot in the label')
  t.equal(parseInstanceName(`${'x'.repeat(64)}.${SERVICE_TYPE}`), null, 'label over 63 bytes')
  t.equal(parseInstanceName(`x._other._udp.local`), null)
  t.equal(parseInstanceName(`.${SERVICE_TYPE}`), null, 'empty label')
  t.equal(parseInstanceName(`a\u0000b.${SERVICE_TYPE}`), null, 'control character')
  t.equal(parseHostName('Box.local.'), 'box.local')
  t.equal(parseHostName('box.example.com'), null)
  t.equal(parseHostName(`${'x'.repeat(64)}.local`), null)
  t.equal(parseHostName('a..local'), null)
})

t.test('addresses: no unspecified or multicast; loopback only over loopback; link-local v6 skipped', async (t) => {
  t.equal(usableAddress('10.1.2.3', 4, false), true)
  t.equal(usableAddress('127.0.0.1', 4, false), 'bad-address', 'a LAN host cannot point us at our own loopback')
  t.equal(usableAddress('127.0.0.1', 4, true), true)
  t.equal(usableAddress('::1', 6, false), 'bad-address')
  t.equal(usableAddress('0.0.0.0', 4, true), 'bad-address')
  t.equal(usableAddress('224.0.0.251', 4, false), 'bad-address')
  t.equal(usableAddress('255.255.255.255', 4, false), 'bad-address')
  t.equal(usableAddress('::', 6, false), 'bad-address')
  t.equal(usableAddress('ff02::fb', 6, false), 'bad-address')
  t.equal(usableAddress('fe80::1', 6, false), null)
  t.equal(usableAddress('2001:db8::1', 6, false), true)
  t.equal(usableAddress('240.0.0.1', 4, false), 'bad-address', 'class E: reserved')
  t.equal(usableAddress('169.254.1.1', 4, false), true, 'IPv4 link-local needs no zone')
  t.equal(usableAddress('::ffff:127.0.0.1', 6, false), 'bad-address', 'loopback mapped into IPv6 is loopback')
  t.equal(usableAddress('::ffff:127.0.0.1', 6, true), true)
  t.equal(usableAddress('::ffff:224.0.0.251', 6, false), 'bad-address', 'so is multicast')
  t.equal(usableAddress('::ffff:10.1.2.3', 6, false), true)
})

t.test('headers: responses only from port 5353 with opcode QUERY and rcode NOERROR (RFC 6762 §11, §18)', async (t) => {
  const res = wire(announcement(records))
  t.equal(checkResponseHeader(res, lan), null)
  t.equal(checkResponseHeader(res, { ...lan, port: 5354 }), 'bad-source-port')
  t.equal(checkResponseHeader(wire({ ...announcement(records), flags: 2 } as Packet), lan), 'bad-header', 'rcode SERVFAIL')
  t.equal(checkResponseHeader(wire({ ...announcement(records), flags: 5 << 11 } as Packet), lan), 'bad-header')
  t.equal(checkQueryHeader(wire({ type: 'query', questions: [], flags: 2 << 11 } as Packet)), 'bad-header')
  t.equal(checkQueryHeader(wire({ type: 'query', questions: [] })), null)
})

t.test('extractObservations reads a whole announcement; the token is resolved only by someone who knows it', async (t) => {
  const stranger = extractObservations(wire(announcement(records)), lan, none)
  t.same(stranger.observations.find(o => o.kind === 'txt'), { kind: 'txt', instance: instanceName(svc), token: tok, fingerprint: null, protocolVersion: 1, ttl: 4500 }, 'a stranger: no fingerprint')
  const { observations, drops } = extractObservations(wire(announcement(records)), lan, none, token => token === tok ? fp : null)
  t.same(drops, [])
  const inst = instanceName(svc)
  const host = hostName(svc)
  t.same(observations, [
    { kind: 'ptr', instance: inst, ttl: 4500 },
    { kind: 'srv', instance: inst, port: 41000, target: host, ttl: 120 },
    { kind: 'txt', instance: inst, token: tok, fingerprint: fp, protocolVersion: 1, ttl: 4500 },
    { kind: 'addr', host, family: 4, address: '192.168.5.9', ttl: 120, flush: true },
    { kind: 'addr', host, family: 6, address: '2001:db8::9', ttl: 120, flush: true }
  ] satisfies Observation[], 'link-local fe80::1 left out, the rest in order')
})

const res = (answers: Answer[]): Packet => wire({ type: 'response', answers })
const inst = `x1._dmess._udp.local`

t.test('malformed and absurd dmess records are dropped with a reason', async (t) => {
  const cases: Array<[string, Answer, string]> = [
    ['TXT without t', { name: inst, type: 'TXT', ttl: 10, data: ['v=1'] }, 'bad-txt'],
    ['TXT too large', { name: inst, type: 'TXT', ttl: 10, data: [`t=${tok}`, 'v=1', ...Array.from({ length: 6 }, () => 'k='.padEnd(250, 'z'))] }, 'bad-txt'],
    ['SRV port 0', { name: inst, type: 'SRV', ttl: 10, data: { port: 0, target: 'h.local' } }, 'bad-srv'],
    ['SRV target not .local', { name: inst, type: 'SRV', ttl: 10, data: { port: 1, target: 'h.example' } }, 'bad-name'],
    ['PTR to a foreign name', { name: SERVICE_TYPE, type: 'PTR', ttl: 10, data: 'x._http._tcp.local' }, 'bad-name'],
    ['instance with dotted label', { name: `a.b.${SERVICE_TYPE}`, type: 'TXT', ttl: 10, data: [`t=${tok}`, 'v=1'] }, 'bad-name'],
    ['class CH', { name: inst, type: 'TXT', class: 'CH', ttl: 10, data: [`t=${tok}`, 'v=1'] }, 'bad-class']
  ]
  for (const [why, answer, reason] of cases) {
    const { observations, drops } = extractObservations(res([answer]), lan, none)
    t.same(observations, [], `${why}: no observation`)
    t.same(drops, [reason], `${why}: counted as ${reason}`)
  }
})

t.test('address records: only for SRV targets, validated, TTLs clamped', async (t) => {
  const srv: Answer = { name: inst, type: 'SRV', ttl: 10, data: { port: 9, target: 'h.local' } }
  const a = (data: string, name = 'h.local'): Answer => ({ name, type: 'A', ttl: 10, data })
  let r = extractObservations(res([a('10.0.0.1', 'other.local')]), lan, none)
  t.same(r, { observations: [], drops: [] }, 'A record of an unrelated host: ignored, not counted')
  r = extractObservations(res([a('10.0.0.1')]), lan, h => h === 'h.local')
  t.equal(r.observations.length, 1, 'a host an earlier SRV named is relevant')
  r = extractObservations(res([srv, a('127.0.0.1')]), lan, none)
  t.same(r.drops, ['bad-address'], 'loopback address from a LAN source')
  r = extractObservations(res([srv, a('127.0.0.1')]), { address: '127.0.0.1', port: 5353 }, none)
  t.same(r.drops, [], 'loopback address over loopback is fine')
  r = extractObservations(res([{ ...srv, ttl: 0x7fffffff }]), lan, none)
  t.equal((r.observations[0] as { ttl: number }).ttl, MAX_ACCEPTED_TTL_S, 'absurd TTL clamped')
  t.equal(clampTtl(undefined), 0)
  t.equal(clampTtl(-5), 0)
})

t.test('on-link check (RFC 6762 §11) for IPv4 and IPv6', async (t) => {
  const links = [
    { address: '10.231.0.10', netmask: '255.255.255.0', family: 4 as const },
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 4 as const },
    { address: 'fd00:1::5', netmask: 'ffff:ffff:ffff:ffff::', family: 6 as const }
  ]
  t.ok(isOnLink('10.231.0.99', links))
  t.ok(isOnLink('127.8.8.8', links))
  t.ok(isOnLink('::ffff:10.231.0.1', links), 'IPv4-mapped')
  t.ok(isOnLink('fd00:1::abcd', links))
  t.notOk(isOnLink('10.231.1.1', links))
  t.notOk(isOnLink('fd00:2::1', links))
  t.notOk(isOnLink('not-an-ip', links))
  t.same(ipBytes('::1'), [...new Array<number>(15).fill(0), 1])
  t.equal(ipBytes('1.2.3'), null)
})
