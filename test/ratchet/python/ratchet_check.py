#!/usr/bin/env python3
"""Independent check of proto-spec/ratchet.md, written from that document and from Signal's
"The Double Ratchet Algorithm" (sections 3 and 4), not from src/ratchet/.

Reads the vector block of ratchet.md section 8, recomputes every KDF known answer, then plays both
parties of the transcript: each message is decrypted by its receiver and re-encrypted by its sender
byte for byte. ML-KEM-768 is not available here; as section 8 says, the KEM shared secrets are taken
from the vector block, and the encapsulation keys and ciphertexts from the headers themselves.
Everything else (HKDF, HMAC, X25519, HChaCha20, ChaCha20-Poly1305, header encryption, skipped keys)
is computed here, with the Python standard library and pyca/cryptography.

Usage: python3 ratchet_check.py path/to/ratchet.md      (prints one line per check, exit 1 on failure)
"""
import hashlib
import hmac
import re
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

INFO_INIT = b'dmess-ratchet-init-v1\x00'
INFO_ROOT = b'dmess-ratchet-root-v1\x00'
INFO_MESSAGE = b'dmess-ratchet-message-v1\x00'
EK_BYTES, CT_BYTES = 1184, 1088
HEADER_BYTES = 32 + 4 + 4 + 1 + EK_BYTES + CT_BYTES
ENC_HEADER_BYTES = 24 + HEADER_BYTES + 16
MAX_SKIP = 1000


def hmac256(key, *parts):
    return hmac.new(key, b''.join(parts), hashlib.sha256).digest()


def hkdf(ikm, salt, info, length):  # RFC 5869
    prk = hmac256(salt if salt else bytes(32), ikm)
    out, t, i = b'', b'', 1
    while len(out) < length:
        t = hmac256(prk, t, info, bytes([i]))
        out += t
        i += 1
    return out[:length]


def kdf_init(sk):
    o = hkdf(sk, bytes(32), INFO_INIT, 96)
    return o[:32], o[32:64], o[64:]


def kdf_rk(rk, dh_out, kem_ss=b''):
    o = hkdf(dh_out + kem_ss, rk, INFO_ROOT, 96)
    return o[:32], o[32:64], o[64:]


def kdf_ck(ck):  # returns (next chain key, message key)
    return hmac256(ck, b'\x02'), hmac256(ck, b'\x01')


def message_keys(mk):
    o = hkdf(mk, bytes(32), INFO_MESSAGE, 44)
    return o[:32], o[32:]


def encrypt(mk, plaintext, aad):
    key, nonce = message_keys(mk)
    return ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)


def decrypt(mk, ciphertext, aad):
    key, nonce = message_keys(mk)
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        return None


def hchacha20(key, nonce16):  # draft-irtf-cfrg-xchacha-03 section 2.2
    def rotl(v, n):
        return ((v << n) & 0xffffffff) | (v >> (32 - n))

    def qr(s, a, b, c, d):
        s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & 0xffffffff; s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & 0xffffffff; s[b] = rotl(s[b] ^ s[c], 7)
    s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] + list(struct.unpack('<8I', key)) + list(struct.unpack('<4I', nonce16))
    for _ in range(10):
        qr(s, 0, 4, 8, 12); qr(s, 1, 5, 9, 13); qr(s, 2, 6, 10, 14); qr(s, 3, 7, 11, 15)
        qr(s, 0, 5, 10, 15); qr(s, 1, 6, 11, 12); qr(s, 2, 7, 8, 13); qr(s, 3, 4, 9, 14)
    return struct.pack('<8I', *(s[0:4] + s[12:16]))


def hencrypt(hk, nonce24, header, ad):
    sub = hchacha20(hk, nonce24[:16])
    return nonce24 + ChaCha20Poly1305(sub).encrypt(b'\x00' * 4 + nonce24[16:], header, ad)


def hdecrypt(hk, enc_header, ad):
    if hk is None:
        return None
    sub = hchacha20(hk, enc_header[:16])
    try:
        return ChaCha20Poly1305(sub).decrypt(b'\x00' * 4 + enc_header[16:24], enc_header[24:], ad)
    except InvalidTag:
        return None


def x25519_public(secret):
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def x25519_dh(secret, public):
    return X25519PrivateKey.from_private_bytes(secret).exchange(X25519PublicKey.from_public_bytes(public))


class Drbg:  # ratchet.md section 8.1: HMAC-SHA256(seed, u32 counter), block after block
    def __init__(self, seed):
        self.seed, self.counter, self.buf = seed, 0, b''

    def take(self, n):
        while len(self.buf) < n:
            self.buf += hmac256(self.seed, struct.pack('>I', self.counter))
            self.counter += 1
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def body_aad(ad, associated, enc_header):
    return struct.pack('>I', len(ad)) + ad + struct.pack('>I', len(associated)) + associated + enc_header


def parse_header(h):
    pn, n = struct.unpack('>II', h[32:40])
    return {'dh': h[:32], 'pn': pn, 'n': n, 'flags': h[40], 'ek': h[41:41 + EK_BYTES], 'ct': h[41 + EK_BYTES:]}


class Party:
    """State variables of Double Ratchet section 3.2 with the header keys of section 4.2."""

    def __init__(self, name, drbg, ad, kem_secrets):
        self.name, self.drbg, self.ad, self.kem = name, drbg, ad, kem_secrets
        self.mkskipped = {}
        self.sent_kem = None  # the KEM shared secret this party encapsulated in its latest step

    # RatchetInitAliceHE
    def init_alice(self, sk, bob_public):
        rk0, hka, nhkb = kdf_init(sk)
        self.dhs = self.drbg.take(32)
        self.drbg.take(64)  # ML-KEM key generation seed (no ML-KEM here)
        self.dhr = bob_public
        self.rk, self.cks, self.nhks = kdf_rk(rk0, x25519_dh(self.dhs, self.dhr))
        self.ckr, self.ns, self.nr, self.pn = None, 0, 0, 0
        self.hks, self.hkr, self.nhkr = hka, None, nhkb
        self.has_kem = True

    # RatchetInitBobHE
    def init_bob(self, sk, spk_secret):
        self.rk, hka, nhkb = kdf_init(sk)
        self.dhs, self.dhr = spk_secret, None
        self.cks = self.ckr = None
        self.ns, self.nr, self.pn = 0, 0, 0
        self.hks, self.nhks, self.hkr, self.nhkr = None, nhkb, None, hka
        self.has_kem = False

    # RatchetEncryptHE, checked against the message the TypeScript sender produced
    def encrypt_and_compare(self, plaintext, associated, expected):
        self.cks, mk = kdf_ck(self.cks)
        # the KEM fields cannot be computed here: take them from the expected header, opened with our own header key
        theirs = hdecrypt(self.hks, expected[:ENC_HEADER_BYTES], self.ad)
        if theirs is None:
            return False, 'our sending header key does not open the expected header'
        h = parse_header(theirs)
        header = x25519_public(self.dhs) + struct.pack('>II', self.pn, self.ns) + theirs[40:]
        if header != theirs:
            return False, 'dh, pn or n differ from ours'
        enc_header = hencrypt(self.hks, self.drbg.take(24), header, self.ad)
        self.ns += 1
        mine = enc_header + encrypt(mk, plaintext, body_aad(self.ad, associated, enc_header))
        return mine == expected, 'byte for byte' if mine == expected else 'bytes differ'

    # RatchetDecryptHE
    def decrypt(self, message, associated, kem_queue):
        enc_header, body = message[:ENC_HEADER_BYTES], message[ENC_HEADER_BYTES:]
        aad = body_aad(self.ad, associated, enc_header)
        for (hk, n), mk in list(self.mkskipped.items()):  # TrySkippedMessageKeysHE
            h = hdecrypt(hk, enc_header, self.ad)
            if h is not None and parse_header(h)['n'] == n:
                del self.mkskipped[(hk, n)]
                return decrypt(mk, body, aad)
        h = hdecrypt(self.hkr, enc_header, self.ad)
        step = False
        if h is None:
            h = hdecrypt(self.nhkr, enc_header, self.ad)
            step = True
            if h is None:
                return None
        h = parse_header(h)
        if step:
            self.skip(h['pn'])
            self.dh_ratchet(h, kem_queue)
        self.skip(h['n'])
        self.ckr, mk = kdf_ck(self.ckr)
        self.nr += 1
        return decrypt(mk, body, aad)

    def skip(self, until):  # SkipMessageKeysHE
        if self.nr + MAX_SKIP < until:
            raise ValueError('too many skipped')
        if self.ckr is not None:
            while self.nr < until:
                self.ckr, mk = kdf_ck(self.ckr)
                self.mkskipped[(self.hkr, self.nr)] = mk
                self.nr += 1

    def dh_ratchet(self, h, kem_queue):  # DHRatchetHE with the KEM secrets of ratchet.md section 5
        assert (h['flags'] == 1) == self.has_kem, 'a ciphertext is present exactly when we published a key'
        received = kem_queue.pop(0) if self.has_kem else b''
        self.drbg.take(32)  # ML-KEM encapsulation randomness
        self.pn, self.ns, self.nr = self.ns, 0, 0
        self.hks, self.hkr = self.nhks, self.nhkr
        self.dhr = h['dh']
        self.rk, self.ckr, self.nhkr = kdf_rk(self.rk, x25519_dh(self.dhs, self.dhr), received)
        self.dhs = self.drbg.take(32)
        self.drbg.take(64)  # ML-KEM key generation seed
        self.has_kem = True
        sent = kem_queue[0] if kem_queue else None  # our encapsulation: the next secret in the transcript
        self.rk, self.cks, self.nhks = kdf_rk(self.rk, x25519_dh(self.dhs, self.dhr), sent)


def parse_vectors(spec):
    block = spec[spec.index('```ratchet-vectors\n') + 19:]
    block = block[:block.index('```')]
    out, key = {}, None
    for line in block.split('\n'):
        m = re.match(r'^([a-z0-9_.]+): ([0-9a-f]*)$', line)
        if m:
            key = m.group(1)
            out[key] = m.group(2)
        elif re.match(r'^ {4}[0-9a-f]+$', line):
            out[key] += line.strip()
    return {k: bytes.fromhex(v) for k, v in out.items()}


# the schedule of ratchet.md section 8.3
SCHEDULE = [('send', 'm0'), ('send', 'm1'), ('recv', 'm1'), ('recv', 'm0'), ('send', 'm2'), ('recv', 'm2'),
            ('send', 'm3'), ('send', 'm4'), ('recv', 'm3'), ('recv', 'm4'), ('send', 'm5'), ('recv', 'm5')]
MESSAGES = {'m0': ('alice', b'Hello Bob', b''), 'm1': ('alice', b'second, arrives first', b''),
            'm2': ('bob', b'Hi Alice', b''), 'm3': ('alice', b'third', b''), 'm4': ('alice', b'fourth', b''),
            'm5': ('bob', b'bye', b'envelope header')}


def main():
    v = parse_vectors(open(sys.argv[1], encoding='utf-8').read())
    failures = []

    def check(name, got):
        ok = got == v[name]
        print(('ok ' if ok else 'FAIL ') + name)
        if not ok:
            failures.append(name)

    f = lambda n, b: bytes([b]) * n  # noqa: E731
    rk, hka, nhkb = kdf_init(f(32, 6))
    check('kdf_init.rk', rk); check('kdf_init.hka', hka); check('kdf_init.nhkb', nhkb)
    rk, ck, nhk = kdf_rk(f(32, 1), f(32, 2))
    check('kdf_rk.rk', rk); check('kdf_rk.ck', ck); check('kdf_rk.nhk', nhk)
    rk, ck, nhk = kdf_rk(f(32, 1), f(32, 2), f(32, 3))
    check('kdf_rk_kem.rk', rk); check('kdf_rk_kem.ck', ck); check('kdf_rk_kem.nhk', nhk)
    ck, mk = kdf_ck(f(32, 4))
    check('kdf_ck.mk', mk); check('kdf_ck.ck', ck)
    key, nonce = message_keys(f(32, 5))
    check('message_keys.key', key); check('message_keys.nonce', nonce)
    check('hencrypt', hencrypt(f(32, 7), f(24, 8), b'header', b'ad'))
    check('encrypt', encrypt(f(32, 5), b'body', b'aad'))

    sk, ad = bytes(range(32)), b'dmess-ratchet-test-ad: alice|bob'
    kem = [v['kem_ss.%d' % i] for i in range(1, 10) if 'kem_ss.%d' % i in v]
    alice = Party('alice', Drbg(b'alice'), ad, kem)
    bob = Party('bob', Drbg(b'bob'), ad, kem)
    spk_secret = bob.drbg.take(32)
    check('bob.spk_public', x25519_public(spk_secret))
    bob.init_bob(sk, spk_secret)
    alice.init_alice(sk, v['bob.spk_public'])
    parties = {'alice': alice, 'bob': bob}
    for what, mid in SCHEDULE:
        sender, plaintext, associated = MESSAGES[mid]
        if what == 'send':
            ok, why = parties[sender].encrypt_and_compare(plaintext, associated, v[mid])
            print(('ok ' if ok else 'FAIL ') + '%s: %s re-encrypts it %s' % (mid, sender, why))
            if not ok:
                failures.append(mid)
        else:
            receiver = parties['bob' if sender == 'alice' else 'alice']
            got = receiver.decrypt(v[mid], associated, kem)
            ok = got == plaintext
            print(('ok ' if ok else 'FAIL ') + '%s: %s decrypts it' % (mid, receiver.name))
            if not ok:
                failures.append(mid)
    if len(kem) != 1:  # the last step's own encapsulation has no receiver in the transcript
        failures.append('KEM secrets left over: %d' % len(kem))
    print('python check: %d failures' % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
