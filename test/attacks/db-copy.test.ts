// Attack: someone copies the message store (a backup, a stolen laptop, a synced home folder)
// and reads it without the key. Schema v4 (proto-spec/storage.md §Keys, §Encryption, §Padding,
// §What a copy shows) must show no fingerprint, name, id or time, and no exact body length:
// the copy is read with classic-level (every raw key and value) and byte by byte (every file).
import t from 'tap'
import { openStore, type NewMessage } from '../../src/store/index.js'
import { fingerprintOf } from '../../src/crypto/fingerprint.js'
import { utf8 } from '../../src/crypto/primitives.js'
import { newKey, tempStoreDir } from '../store/fixtures/helpers.js'
import { findLeaks } from '../store/fixtures/leaks.js'
import { sub } from '../store/fixtures/raw.js'
import { testRng } from '../helpers/seed.js'

const rng = testRng(t, 0xdbc0b7, 'fingerprints, times and lengths')
const T0 = 1_765_000_000_000 + rng.int(1_000_000_000)
const XCHACHA_OVERHEAD = 24 + 16

function fingerprint (): string {
  return fingerprintOf({ signPublic: rng.bytes(32), dhPublic: rng.bytes(32), dhSignature: rng.bytes(64) })
}

function metric (name: string, value: number, unit: string): void {
  t.comment(JSON.stringify({ metric: name, value, unit }))
}

t.test('a copy of the database shows no fingerprint, name, id, time or exact length', async (t) => {
  const dir = await tempStoreDir(t)
  const key = newKey()
  const people = Array.from({ length: 6 }, (_, i) => ({ fp: fingerprint(), name: `Contact Name ${String.fromCharCode(65 + i)}${rng.int(1e6)}` }))
  const blocked = [fingerprint(), people[5]?.fp as string]
  const times: number[] = []
  const lengths = [1, 5, 17, 40, 99, 120, 150, 180, 300, 301, 777, 1000, 4096, 5000]
  const store = await openStore(dir, key)
  for (const [i, p] of people.entries()) {
    const addedAt = T0 + rng.int(1e9)
    const lastSeen = addedAt + rng.int(1e6)
    times.push(addedAt, lastSeen)
    await store.putContact({ fingerprint: p.fp, name: p.name, verified: i % 2 === 0, addedAt, lastSeen, signPublic: rng.bytes(32), dhPublic: rng.bytes(32) })
  }
  const messages: NewMessage[] = []
  for (const [i, len] of lengths.entries()) {
    for (const [j, p] of people.slice(0, 4).entries()) {
      const timestamp = T0 + rng.int(1e9)
      const receivedAt = timestamp + rng.int(5000)
      times.push(timestamp, receivedAt)
      const out = (i + j) % 2 === 0
      messages.push({ id: `msg-${i}-${j}-${rng.int(1e9)}`, peer: p.fp, direction: out ? 'out' : 'in', text: 'abcdefghij'.repeat(500).slice(0, len), timestamp, receivedAt, status: out ? 'sending' : 'received', read: out })
    }
  }
  await store.addMessages(messages)
  for (const m of messages.filter((m) => m.direction === 'out').slice(0, 10)) await store.setStatus(m.id, 'delivered')
  await store.markRead(people[0]?.fp as string)
  const outbox = messages.filter((m) => m.direction === 'out').slice(0, 5)
  for (const m of outbox) {
    const nextAttemptAt = T0 + rng.int(1e9)
    times.push(nextAttemptAt)
    await store.putOutbox({ id: m.id, peer: m.peer, payload: utf8.encode(m.text), attempts: 1 + rng.int(5), nextAttemptAt, createdAt: m.timestamp })
  }
  for (const fp of blocked) {
    const at = T0 + rng.int(1e9)
    times.push(at)
    await store.block(fp, at)
  }
  t.ok(await store.unreadCount(people[1]?.fp as string) > 0, 'the store holds unread messages')
  await store.close()

  const fingerprints = [...people.map((p) => p.fp), blocked[0] as string]
  const secrets = { fingerprints, names: people.map((p) => p.name), ids: messages.map((m) => m.id), times }
  const { entries, leaks } = await findLeaks(dir, secrets)
  metric('db_copy_raw_entries', entries.length, 'entries')
  metric('db_copy_needles_found', leaks.length, 'needles')
  t.same(leaks, [], `no fingerprint (8-character substrings, any case), name, message id or time (decimal ms, hex, seconds, binary) in ${entries.length} raw entries or any file`)

  // every key is a sublevel name and opaque hex (proto-spec/storage.md §Keys)
  const shapes = new Set(entries.map(([k]) => k.replace(/[0-9a-f]{32}/g, '<tag>').replace(/![0-9a-f]{16}$/, '!<seq>')))
  t.same([...shapes].sort(), ['!blocklist!<tag>', '!contacts!<tag>', '!convs!<tag>', '!messages!<tag>!<seq>', '!meta!keyCheck', '!meta!schemaVersion', '!msgindex!<tag>', '!outbox!<tag>'], 'key shapes: tags and per-conversation seqs only (v4 keeps unread counts in the conversation records)')

  // lengths: a message value is nonce + tag + a size class, not the body length + a constant
  const sizes = [...sub(entries, 'messages').values()].map((v) => v.length - XCHACHA_OVERHEAD)
  const classes = new Set(sizes)
  metric('db_copy_message_size_classes', classes.size, 'classes')
  metric('db_copy_body_lengths', lengths.length, 'lengths')
  t.ok(sizes.every((s) => s >= 256), 'every message record is at least 256 bytes')
  t.ok(classes.size < lengths.length, `${lengths.length} body lengths show as ${classes.size} size classes`)
  // a record holds id (~20 bytes), fingerprint (47), times and flags: ~110 bytes besides the body
  const short = messages.filter((m) => m.text.length <= 120).length
  t.equal(sizes.filter((s) => s === 256).length, short, 'every body up to 120 bytes, read or unread, any status, looks the same')
  const offsets = new Set(messages.map((m, i) => (sizes[i] ?? 0) - m.text.length))
  t.ok(offsets.size > 1, 'no constant offset links a record size to its body length')
  const flagged = [...sub(entries, 'msgindex').values(), ...sub(entries, 'convs').values(), ...sub(entries, 'blocklist').values()]
  t.equal(new Set(flagged.map((v) => v.length)).size, 1, 'index records all have one length')
})
