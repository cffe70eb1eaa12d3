// A real daemon keeps PQXDH prekeys (proto-spec/pqxdh.md §5): its first start writes
// <home>/prekeys (mode 0600, sealed under a key from the store key), a restart a week later finds
// the same pair and rotates, and one after the grace period has deleted the first pair from the
// file. In-process daemons on loopback, real LevelDB and files; the wall clock is the daemon's
// `now` option, so weeks pass without waiting.
import t from 'tap'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { Daemon } from '../../src/daemon/daemon.js'
import { unlock } from '../../src/app/profile.js'
import { silentLogger } from '../../src/daemon/log.js'
import { loadPrekeyRing, prekeyFileKey, openBundle, PREKEY_FILE_NAME } from '../../src/pqxdh/index.js'
import { PASS, profileHome } from './helpers.js'

const DAY = 86_400_000

t.test('prekeys are made at the first start, kept across restarts, rotated and deleted on schedule', async t => {
  const alice = await profileHome(t, 'alice')
  const path = join(alice.paths.home, PREKEY_FILE_NAME)
  const base = Date.now()
  const run = async (offsetMs: number): Promise<number[]> => {
    const d = new Daemon({ paths: alice.paths, host: '127.0.0.1', port: 0, mdns: false, bootstrap: [], peers: [], log: silentLogger(), now: () => base + offsetMs }, await unlock(alice.paths, PASS))
    await d.start()
    try {
      const prekeys = d.node.prekeys
      if (prekeys === null) throw new Error('a daemon should keep prekeys')
      const opened = openBundle(prekeys.bundle(), alice.fingerprint, base + offsetMs)
      t.ok(opened.ok, `day ${offsetMs / DAY}: the daemon's bundle opens under its fingerprint`)
      return prekeys.ring.sets.map(s => s.id)
    } finally {
      await d.stop('test')
    }
  }
  t.same(await run(0), [1], 'first start: pair 1')
  t.equal(statSync(path).mode & 0o777, 0o600, 'the file is mode 0600')
  const key = prekeyFileKey((await unlock(alice.paths, PASS)).storeKey)
  t.same((await loadPrekeyRing(path, key))?.sets.map(s => s.id), [1], 'it opens under the store key from the keystore')
  t.same(await run(DAY), [1], 'a restart the next day: the same pair, none made')
  t.same(await run(8 * DAY), [1, 2], 'a week on: pair 2 current, pair 1 kept for starts in flight')
  t.same(await run(30 * DAY), [2, 3], 'after the grace period pair 1 is gone')
  t.same((await loadPrekeyRing(path, key))?.sets.map(s => s.id), [2, 3], 'from the file too')
})
