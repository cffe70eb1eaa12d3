// Invites (proto-spec/identity.md §7): round trip, what a paste may do to them, and rejection
// of anything damaged or tampered with, including tampering that fixes up the check bytes.
import t, { type Test } from 'tap'
import { generateIdentity, publicIdentityOf, encodePublicIdentity, IDENTITY_SIG_DOMAIN } from '../../src/crypto/identity.js'
import { encodeInvite, decodeInvite, INVITE_PREFIX, INVITE_NAME_MAX_BYTES } from '../../src/crypto/invite.js'
import { base32Encode, base32Decode } from '../../src/crypto/fingerprint.js'
import { ed25519, sha256, utf8 } from '../../src/crypto/primitives.js'
import { DmessError } from '../../src/errors.js'

const alice = generateIdentity()
const bob = generateIdentity()

/** An invite from raw payload fields, with correct check bytes: what a deliberate forger writes. */
function craft (fields: { version?: number, identity?: Uint8Array, nameLength?: number, name?: Uint8Array }): string {
  const name = fields.name ?? new Uint8Array(0)
  const body = new Uint8Array([fields.version ?? 1, ...(fields.identity ?? encodePublicIdentity(alice)),
    fields.nameLength ?? name.length, ...name])
  const check = sha256(utf8.encode('dmess-invite-v1\0'), body).subarray(0, 4)
  return INVITE_PREFIX + base32Encode(new Uint8Array([...body, ...check]))
}

function rejects (t: Test, invite: string, why: RegExp, label: string): void {
  try {
    decodeInvite(invite)
    t.fail(`${label}: accepted`)
  } catch (err) {
    t.ok(err instanceof DmessError && err.code === 'BAD_INVITE', `${label}: BAD_INVITE`)
    t.match((err as Error).message, why, label)
    t.notMatch((err as Error).message, /\n/, `${label}: one line`)
  }
}

t.test('round trip, with and without a name', async t => {
  const plain = encodeInvite(alice)
  t.ok(plain.startsWith('dmess:'))
  t.match(plain, /^dmess:[qpzry9x8gf2tvdw0s3jn54khce6mua7l]+$/)
  t.equal(plain.length, 221, '134-byte payload')
  const got = decodeInvite(plain)
  t.same(got, { identity: publicIdentityOf(alice), fingerprint: alice.fingerprint }, 'no name key at all')
  t.equal(encodeInvite(alice, ''), plain, 'an empty name is no name')

  for (const name of ['Alice', 'Zoë Ångström', '小明', '👩‍💻 dev', 'x'.repeat(INVITE_NAME_MAX_BYTES), 'é'.repeat(32)]) {
    const inv = encodeInvite(publicIdentityOf(alice), name)
    t.same(decodeInvite(inv), { identity: publicIdentityOf(alice), fingerprint: alice.fingerprint, name }, name)
  }
  t.equal(encodeInvite(alice, 'x'.repeat(64)).length, 323, 'the longest invite')
})

t.test('a pasted invite may be upper case, wrapped or padded with whitespace', async t => {
  const inv = encodeInvite(bob, 'Bob')
  const wrapped = inv.match(/.{1,64}/g)?.join('\n') ?? ''
  for (const pasted of [inv.toUpperCase(), `  ${inv}\n`, wrapped, `\r\n${wrapped.replaceAll('\n', '\r\n')}\t`]) {
    t.equal(decodeInvite(pasted).fingerprint, bob.fingerprint, JSON.stringify(pasted.slice(0, 12)))
  }
})

t.test('encodeInvite refuses names that do not fit or could disguise themselves', async t => {
  t.throws(() => encodeInvite(alice, 'x'.repeat(65)), { code: 'BAD_ARGUMENT', message: /65 UTF-8 bytes; at most 64/ })
  t.throws(() => encodeInvite(alice, 'é'.repeat(33)), { code: 'BAD_ARGUMENT', message: /66 UTF-8 bytes/ })
  const disguised = ['evil\u001b[2J', 'two\nlines', 'tab\there', 'rtl\u202eexe.txt', 'iso\u2066late', 'line\u2028sep', 'nul\u0000']
  for (const [i, bad] of disguised.entries()) {
    // labels by index: some of these characters would break the TAP output itself
    t.throws(() => encodeInvite(alice, bad), { code: 'BAD_ARGUMENT', message: /control or text-direction/ }, `disguised name ${i}`)
  }
  const broken = { ...publicIdentityOf(alice), dhSignature: bob.dhSignature }
  t.throws(() => encodeInvite(broken), { code: 'BAD_ARGUMENT', message: /does not verify/ })
})

t.test('every single bit flip in the payload is rejected', async t => {
  const inv = encodeInvite(alice, 'Alice')
  const payload = base32Decode(inv.slice(INVITE_PREFIX.length)) as Uint8Array
  let rejected = 0
  for (let bit = 0; bit < payload.length * 8; bit++) {
    const p = payload.slice()
    p[bit >> 3] = (p[bit >> 3] ?? 0) ^ (1 << (bit & 7))
    try {
      decodeInvite(INVITE_PREFIX + base32Encode(p))
      t.fail(`flipping bit ${bit} went unnoticed`)
    } catch (err) {
      if ((err as DmessError).code === 'BAD_INVITE') rejected++
    }
  }
  t.equal(rejected, payload.length * 8, `all ${payload.length * 8} flips rejected`)
})

t.test('tampering that recomputes the check bytes is caught by the signature', async t => {
  const pub = encodePublicIdentity(alice)
  for (const [label, offset] of [['Ed25519 key', 5], ['X25519 key', 40], ['signature', 100]] as const) {
    const tampered = pub.slice()
    tampered[offset] = (tampered[offset] ?? 0) ^ 0x10
    rejects(t, craft({ identity: tampered }), /not validly signed/, `${label} changed`)
  }
  // keys of one identity, signature of another
  const mixed = new Uint8Array([...alice.signPublic, ...alice.dhPublic, ...bob.dhSignature])
  rejects(t, craft({ identity: mixed }), /not validly signed/, 'wrong signature')
  // someone else's X25519 key, honestly signed by Alice, is a different (valid) identity: the
  // fingerprint then differs from Alice's, which is what the user compares
  const dh = bob.dhPublic
  const resigned = new Uint8Array([...alice.signPublic, ...dh, ...ed25519.sign(new Uint8Array([...IDENTITY_SIG_DOMAIN, ...dh]), alice.signSecret)])
  t.not(decodeInvite(craft({ identity: resigned })).fingerprint, alice.fingerprint)
  // a weak signing key with the signature OpenSSL accepts for every message (crypto-policy.md §2.2)
  const weak = new Uint8Array(128)
  weak[0] = 1
  weak.set(alice.dhPublic, 32)
  weak[64] = 1
  rejects(t, craft({ identity: weak }), /not validly signed \(or are weak keys\)/, 'small-order signing key')
})

t.test('truncated, extended, or otherwise malformed invites say what is wrong', async t => {
  const inv = encodeInvite(alice, 'Alice')
  let truncations = 0
  for (let len = 0; len < inv.length; len++) {
    try {
      decodeInvite(inv.slice(0, len))
      t.fail(`truncated to ${len} characters and accepted`)
    } catch (err) {
      if ((err as DmessError).code === 'BAD_INVITE') truncations++
    }
  }
  t.equal(truncations, inv.length, 'every truncation rejected')
  rejects(t, inv.slice(0, 150), /incomplete/, 'cut in half')
  rejects(t, inv.slice(0, -1), /incomplete|damaged/, 'last character missing')
  rejects(t, inv + 'qq', /damaged|incomplete/, 'two characters too many')
  rejects(t, inv.slice(INVITE_PREFIX.length), /starts with 'dmess:'/, 'prefix missing')
  rejects(t, 'dmesz:' + inv.slice(6), /starts with 'dmess:'/, 'prefix misspelt')
  rejects(t, inv.slice(0, 30) + 'b' + inv.slice(31), /character "b" at position 25/, 'character outside the alphabet')
  rejects(t, alice.fingerprint, /that is a fingerprint, not an invite/, 'a fingerprint')
  rejects(t, 'dmess:' + 'q'.repeat(5000), /at most a few hundred characters/, 'huge input')
  rejects(t, 'dmess:' + 'q'.repeat(600), /longer than any invite/, 'too long for the format')
  rejects(t, '', /starts with 'dmess:'/, 'empty')
  t.throws(() => decodeInvite(undefined as unknown as string), { code: 'BAD_INVITE', message: /must be text/ })
})

t.test('well-checksummed invites with bad fields are still refused', async t => {
  rejects(t, craft({ version: 3 }), /version 3 is not supported/, 'future version')
  rejects(t, craft({ version: 0 }), /version 0 is not supported/, 'version 0')
  rejects(t, craft({ name: utf8.encode('Al'), nameLength: 3 }), /name length does not match/, 'name length too large')
  rejects(t, craft({ name: utf8.encode('Alice'), nameLength: 1 }), /name length does not match/, 'name length too small')
  rejects(t, craft({ name: new Uint8Array(65).fill(0x41) }), /longer than any invite/, 'name too long')
  rejects(t, craft({ name: new Uint8Array([0x41, 0xff, 0x42]) }), /not valid UTF-8/, 'invalid UTF-8')
  rejects(t, craft({ name: new Uint8Array([0x41, 0xc3]) }), /not valid UTF-8/, 'truncated UTF-8 sequence')
  rejects(t, craft({ name: utf8.encode('\u001b]0;pwned\u0007') }), /control or text-direction/, 'terminal escape')
  rejects(t, craft({ name: utf8.encode('gnp.\u202eexe') }), /control or text-direction/, 'bidi override')
  t.equal(decodeInvite(craft({ name: utf8.encode('Alice') })).name, 'Alice', 'the crafting helper itself is right')
})
