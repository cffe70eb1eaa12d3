// A DHT crawler against presence records (proto-spec/dht.md §5, §10). Whole nodes on the seeded
// simulator (createNodes) publish their records for a day of simulated time, into the next
// period. The crawler is the strongest one there is: it holds every record any node stores (as
// if it ran a Sybil next to every key). Without a fingerprint it sees no key or field equal to or
// derived from public data (keys, fingerprints, the v1 key), cannot open any record, and finds
// that one user's records of two periods share no field of theirs (seq and expiry are shared with
// everyone who published at the same time). A node given the fingerprint finds the addresses.
import t from 'tap'
import { createNodes, SIM_WALL_BASE_MS } from '../../src/node/testnet.js'
import { decodePresenceRecord, type VerifiedRecord } from '../../src/dht/records.js'
import { openPresenceRecord } from '../../src/dht/presence-seal.js'
import { periodOf } from '../../src/dht/presence-keys.js'
import { announcedAddresses } from '../../src/node/dht.js'
import { fingerprintBytes } from '../../src/crypto/fingerprint.js'
import { sha256, utf8 } from '../../src/crypto/primitives.js'
import { testSeed } from '../helpers/seed.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const metric = (t: { comment: (...a: unknown[]) => void }, name: string, value: number, unit: string): void => { t.comment(JSON.stringify({ metric: name, value, unit })) }

t.test('a crawler holding every stored record cannot tell whose a record is; a node with the fingerprint finds the addresses', async t => {
  const seed = testSeed(t, 0xc4a3, 'simulated network')
  const net = await createNodes(6, { network: 'sim', seed })
  t.teardown(async () => { await net.destroy() })
  const users = net.nodes.slice(1)
  const crawled = new Map<string, VerifiedRecord>() // key ‖ bytes → record, everything any node held
  const crawl = (): void => {
    for (const n of net.nodes) {
      const store = n.dht!.node!.internals.store
      const now = n.opts.world.scheduler.wallNow()
      for (const key of store.keys()) {
        for (const { record: r } of store.list(key, now)) crawled.set(hex(r.key) + hex(r.bytes), r)
      }
    }
  }
  // a day of simulated time, crawling every 30 minutes: into the next period (dht.md §5.5)
  const dayMs = 24 * 60 * 60_000
  for (let at = 0; at < dayMs + 60 * 60_000; at += 30 * 60_000) {
    await net.advance(30 * 60_000)
    crawl()
  }
  const records = [...crawled.values()]
  metric(t, 'dht_crawler_records_seen', records.length, 'records')
  const p0 = periodOf(SIM_WALL_BASE_MS)

  // what a crawler could compute from public data: fingerprints, identity keys, hashes of them
  const publicData: Uint8Array[] = []
  for (const u of net.nodes) {
    const fp = fingerprintBytes(u.fingerprint)
    publicData.push(fp, u.identity.signPublic, u.identity.dhPublic, u.identity.dhSignature,
      sha256(utf8.encode('dmess-presence-v1\0'), fp), sha256(fp), sha256(u.identity.signPublic), sha256(u.identity.dhPublic))
  }
  const windows = new Set(publicData.flatMap(b => Array.from({ length: b.length - 7 }, (_, i) => hex(b.subarray(i, i + 8)))))
  let leaks = 0
  for (const r of records) {
    const text = hex(r.key) + hex(r.bytes)
    for (let i = 0; i + 16 <= text.length; i += 2) if (windows.has(text.slice(i, i + 16))) leaks++
  }
  t.equal(leaks, 0, 'no 8-byte run of any key, fingerprint or hash of them in any record or record key')
  metric(t, 'dht_crawler_public_data_matches', leaks, 'matches')

  // per user: which records are theirs (only the fingerprint tells), in which periods
  let opened = 0
  let wrongOpens = 0
  const byUser = new Map<string, Array<{ period: number, r: VerifiedRecord }>>()
  for (const r of records) {
    for (const u of net.nodes) {
      for (const period of [p0, p0 + 1]) {
        const o = openPresenceRecord(r, u.fingerprint, period)
        if (o === null) continue
        opened++
        if (o.fingerprint !== u.fingerprint) wrongOpens++
        byUser.set(u.fingerprint, [...(byUser.get(u.fingerprint) ?? []), { period, r }])
      }
    }
  }
  t.equal(opened, records.length, 'every record opens under exactly one (fingerprint, period) — and only with it')
  t.equal(wrongOpens, 0)
  const twoPeriods = users.filter(u => new Set((byUser.get(u.fingerprint) ?? []).map(x => x.period)).size === 2)
  t.equal(twoPeriods.length, users.length, 'every user\'s records of both periods were crawled')
  metric(t, 'dht_crawler_users_seen_in_two_periods', twoPeriods.length, 'users')

  // linking one user's records across the boundary: no field of theirs carries over
  const fields = (r: VerifiedRecord): Record<string, string> => {
    const d = decodePresenceRecord(r.bytes)!
    return { key: hex(r.key), periodPublic: hex(d.periodPublic), seq: String(d.seq), expiresAt: String(d.expiresAt), nonce: hex(d.nonce), ciphertext: hex(d.ciphertext), signature: hex(r.bytes.subarray(-64)) }
  }
  const holders = (field: string, value: string): Set<string> =>
    new Set([...byUser].flatMap(([fp, list]) => list.some(x => fields(x.r)[field] === value) ? [fp] : []))
  let linking = 0
  for (const u of users) {
    const list = byUser.get(u.fingerprint)!
    const a = list.filter(x => x.period === p0).map(x => fields(x.r))
    const b = list.filter(x => x.period === p0 + 1).map(x => fields(x.r))
    for (const fa of a) {
      for (const fb of b) {
        for (const f of Object.keys(fa)) {
          // a value both periods share links them only if it is the user's own: seq and expiry are
          // functions of the time alone (dht.md §5.5), so others who published then share them
          if (fa[f] === fb[f] && holders(f, fa[f]!).size < 2) linking++
        }
      }
    }
  }
  t.equal(linking, 0, 'no field value of one user links their two periods\' records')
  metric(t, 'dht_crawler_linking_fields', linking, 'fields')

  // the reader with the fingerprint: the addresses the owner announces
  const reader = net.nodes[1]!
  const owner = net.nodes[5]!
  let done = false
  const lookup = reader.dht!.lookup(owner.fingerprint).finally(() => { done = true })
  await net.until(() => done, 60_000, 'the lookup')
  const found = await lookup
  t.equal(found?.fingerprint, owner.fingerprint, 'found by fingerprint')
  t.same(found?.addresses, announcedAddresses(owner.address), 'with the owner\'s addresses')
})
