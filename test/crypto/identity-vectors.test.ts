// The worked test vectors of proto-spec/identity.md §8, read from the spec itself so the text and
// the code cannot drift apart.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  identityFromSecrets, publicIdentityOf, verifyPublicIdentity, parseFingerprint, fingerprintBytes,
  formatFingerprintGrouped, safetyNumber, IDENTITY_SECRET_NAMES, type Identity
} from '../../src/crypto/identity.js'
import { encodeInvite, decodeInvite } from '../../src/crypto/invite.js'

const SPEC = join(dirname(fileURLToPath(import.meta.url)), '../../proto-spec/identity.md')

function specVectors (): Map<string, string> {
  const text = readFileSync(SPEC, 'utf8')
  const block = /<!-- vectors:begin -->\s*```\n([\s\S]*?)```\s*<!-- vectors:end -->/.exec(text)?.[1]
  if (block === undefined) throw new Error('identity.md has no vectors block')
  return new Map(block.trim().split('\n').map(line => {
    const at = line.indexOf(': ')
    return [line.slice(0, at), line.slice(at + 2)]
  }))
}

const V = specVectors()
const get = (key: string): string => {
  const v = V.get(key)
  if (v === undefined) throw new Error(`identity.md §8 has no ${key}`)
  return v
}
const hex = (key: string): Uint8Array => new Uint8Array(Buffer.from(get(key), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

function load (who: string): Identity {
  return identityFromSecrets({
    [IDENTITY_SECRET_NAMES.sign]: hex(`${who}.signSecret`),
    [IDENTITY_SECRET_NAMES.dh]: hex(`${who}.dhSecret`)
  })
}

t.test('the spec lists every vector the code checks', async t => {
  t.ok(V.size >= 20, `${V.size} vector lines`)
  t.same(hex('alice.signSecret'), Uint8Array.from({ length: 32 }, (_, i) => i), 'keys are the documented byte sequences')
  t.same(hex('bob.dhSecret'), Uint8Array.from({ length: 32 }, (_, i) => 0x60 + i))
})

for (const who of ['alice', 'bob']) {
  t.test(`${who}: keys, binding signature and fingerprint`, async t => {
    const id = load(who)
    t.equal(toHex(id.signPublic), get(`${who}.signPublic`))
    t.equal(toHex(id.dhPublic), get(`${who}.dhPublic`))
    t.equal(toHex(id.dhSignature), get(`${who}.dhSignature`))
    t.ok(verifyPublicIdentity(id))
    t.equal(id.fingerprint, get(`${who}.fingerprint`))
    t.equal(formatFingerprintGrouped(id.fingerprint), get(`${who}.fingerprintGrouped`))
    t.equal(parseFingerprint(get(`${who}.fingerprintGrouped`)), id.fingerprint)
    t.equal(toHex(fingerprintBytes(id.fingerprint)), get(`${who}.fingerprintBytes`))
  })
}

t.test('invites', async t => {
  const alice = load('alice')
  t.equal(encodeInvite(alice), get('alice.invite'))
  t.equal(encodeInvite(alice, get('alice.inviteName')), get('alice.inviteNamed'))
  t.same(decodeInvite(get('alice.invite')), { identity: publicIdentityOf(alice), fingerprint: get('alice.fingerprint') })
  t.same(decodeInvite(get('alice.inviteNamed')),
    { identity: publicIdentityOf(alice), fingerprint: get('alice.fingerprint'), name: get('alice.inviteName') })
})

t.test('invites with addresses (version 2, identity.md §7.1)', async t => {
  const alice = load('alice')
  const addresses = { node: get('alice.inviteNodeAddresses').split(','), dht: get('alice.inviteDhtNodes').split(',') }
  t.equal(encodeInvite(alice, get('alice.inviteName'), addresses), get('alice.inviteV2'))
  t.same(decodeInvite(get('alice.inviteV2')),
    { identity: publicIdentityOf(alice), fingerprint: get('alice.fingerprint'), name: get('alice.inviteName'), addresses })
  t.equal(encodeInvite(alice, undefined, { node: ['192.0.2.10:47474'], dht: [] }), get('alice.inviteV2OneAddress'))
  t.same(decodeInvite(get('alice.inviteV2OneAddress')).addresses, { node: ['192.0.2.10:47474'], dht: [] })
  t.equal(encodeInvite(alice, get('alice.inviteName'), { node: [], dht: [] }), get('alice.inviteNamed'), 'no addresses: still version 1')
})

t.test('safety number', async t => {
  const alice = load('alice')
  const bob = load('bob')
  t.equal(safetyNumber(alice, bob), get('safetyNumber'))
  t.equal(safetyNumber(bob, alice), get('safetyNumber'))
})
