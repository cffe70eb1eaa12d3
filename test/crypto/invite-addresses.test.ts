// Version 2 invites (proto-spec/identity.md §7.1): addresses round-trip, old invites still read,
// limits hold on both sides, and a malformed address list — even with correct check bytes — is
// refused with one line.
import t, { type Test } from 'tap'
import { generateIdentity, encodePublicIdentity } from '../../src/crypto/identity.js'
import { encodeInvite, decodeInvite, INVITE_PREFIX } from '../../src/crypto/invite.js'
import { base32Encode } from '../../src/crypto/fingerprint.js'
import { sha256, utf8 } from '../../src/crypto/primitives.js'
import { DmessError } from '../../src/errors.js'

const alice = generateIdentity()

function craftV2 (tail: number[], name: number[] = []): string {
  const body = new Uint8Array([2, ...encodePublicIdentity(alice), name.length, ...name, ...tail])
  const check = sha256(utf8.encode('dmess-invite-v2\0'), body).subarray(0, 4)
  return INVITE_PREFIX + base32Encode(new Uint8Array([...body, ...check]))
}

function rejects (t: Test, f: () => unknown, code: string, why: RegExp, label: string): void {
  try {
    f()
    t.fail(`${label}: accepted`)
  } catch (err) {
    t.ok(err instanceof DmessError && err.code === code, `${label}: ${code}`)
    t.match((err as Error).message, why, label)
    t.notMatch((err as Error).message, /\n/, `${label}: one line`)
  }
}

t.test('addresses round-trip; an invite without them stays version 1', async t => {
  const addresses = { node: ['203.0.113.5:47474', '[2001:db8::5]:47474', '192.168.1.20:47474'], dht: ['198.51.100.1:47400', '198.51.100.2:47400', '[2001:db8::7]:47400'] }
  const inv = encodeInvite(alice, 'Alice', addresses)
  t.ok(inv.length <= 420, `the largest realistic invite is ${inv.length} characters`)
  const got = decodeInvite(inv)
  t.same(got.addresses, addresses)
  t.equal(got.fingerprint, alice.fingerprint)
  t.equal(got.name, 'Alice')
  t.notOk('addresses' in decodeInvite(encodeInvite(alice)), 'a version 1 invite has no addresses')
  t.equal(decodeInvite(encodeInvite(alice, undefined, { node: [], dht: [] })).addresses, undefined)
})

t.test('encodeInvite refuses more than fits, and addresses nobody can send to', async t => {
  const four = ['192.0.2.1:1', '192.0.2.2:1', '192.0.2.3:1', '192.0.2.4:1']
  rejects(t, () => encodeInvite(alice, undefined, { node: four, dht: [] }), 'BAD_ARGUMENT', /at most 3/, 'four node addresses')
  rejects(t, () => encodeInvite(alice, undefined, { node: [], dht: four }), 'BAD_ARGUMENT', /at most 3/, 'four DHT nodes')
  for (const bad of ['0.0.0.0:47474', '224.0.0.251:5353', 'example.org:47474', '192.0.2.1:0']) {
    rejects(t, () => encodeInvite(alice, undefined, { node: [bad], dht: [] }), 'BAD_ARGUMENT', /not an IP address and port/, bad)
  }
})

t.test('malformed address lists with correct check bytes are refused', async t => {
  const v4 = (role: number, last: number): number[] => [role, 4, 192, 0, 2, last, 0xb9, 0x72]
  t.same(decodeInvite(craftV2([1, ...v4(1, 1)])).addresses, { node: ['192.0.2.1:47474'], dht: [] }, 'a well-formed one reads')
  t.same(decodeInvite(craftV2([2, ...v4(9, 1), ...v4(2, 2)])).addresses, { node: [], dht: ['192.0.2.2:47474'] }, 'an unknown role is skipped')
  t.same(decodeInvite(craftV2([2, ...v4(1, 1), ...v4(1, 1)])).addresses, { node: ['192.0.2.1:47474'], dht: [] }, 'duplicates are dropped')
  rejects(t, () => decodeInvite(craftV2([])), 'BAD_INVITE', /name length/, 'no count byte')
  rejects(t, () => decodeInvite(craftV2([2, ...v4(1, 1)])), 'BAD_INVITE', /address list is malformed/, 'count larger than the entries')
  rejects(t, () => decodeInvite(craftV2([1, ...v4(1, 1), 0])), 'BAD_INVITE', /address list is malformed/, 'trailing byte')
  rejects(t, () => decodeInvite(craftV2([7, ...Array(7).fill(v4(1, 1)).flat()])), 'BAD_INVITE', /malformed|longer/, 'seven entries')
  rejects(t, () => decodeInvite(craftV2([4, ...[1, 2, 3, 4].flatMap(i => v4(1, i))])), 'BAD_INVITE', /address list is malformed/, 'four node addresses')
  rejects(t, () => decodeInvite(craftV2([1, 1, 5, 192, 0, 2, 1, 0xb9, 0x72])), 'BAD_INVITE', /address list is malformed/, 'family 5')
  rejects(t, () => decodeInvite(craftV2([1, 1, 4, 192, 0, 2, 1, 0, 0])), 'BAD_INVITE', /address list is malformed/, 'port 0')
  rejects(t, () => decodeInvite(craftV2([1, 1, 4, 0, 0, 0, 0, 1, 1])), 'BAD_INVITE', /address list is malformed/, 'unspecified address')
})

t.test('every bit flip in a version 2 invite is rejected', async t => {
  const inv = encodeInvite(alice, 'A', { node: ['203.0.113.5:47474'], dht: ['198.51.100.1:47400'] })
  const body = inv.slice(INVITE_PREFIX.length)
  const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
  let refused = 0
  for (let i = 0; i < body.length; i++) {
    const c = alphabet[(alphabet.indexOf(body[i]!) + 1) % 32]!
    try { decodeInvite(INVITE_PREFIX + body.slice(0, i) + c + body.slice(i + 1)) } catch { refused++ }
  }
  t.equal(refused, body.length, `${refused} of ${body.length} one-character changes refused`)
})
