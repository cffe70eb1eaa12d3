// Daemon settings (flags over config.yaml, --peer parsing) and the CLI's daemon helpers
// against an in-process daemon.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { parsePeer, formatPeer, resolveSettings, assertNoDaemon } from '../../src/daemon/run.js'
import { defaultDownloadDir } from '../../src/files/disk.js'
import { generateIdentity } from '../../src/crypto/identity.js'
import { childArgs, parseChildArgs } from '../../src/daemon/detach.js'
import { Daemon } from '../../src/daemon/daemon.js'
import { silentLogger } from '../../src/daemon/log.js'
import { daemonStatus, findDaemon, requireDaemon } from '../../src/cli/daemon-client.js'
import { unlock } from '../../src/app/profile.js'
import { PASS, profileHome } from './helpers.js'

t.test('--peer takes fingerprint@host:port (a node answers only a dial that names it) or host:port', async t => {
  const fp = generateIdentity().fingerprint
  t.same(parsePeer(`${fp}@127.0.0.1:47474`), { host: '127.0.0.1', port: 47474, fingerprint: fp })
  t.same(parsePeer(`${fp.toUpperCase()}@[::1]:9`), { host: '::1', port: 9, fingerprint: fp }, 'the fingerprint in canonical form')
  t.same(parsePeer('127.0.0.1:1'), { host: '127.0.0.1', port: 1 })
  t.equal(formatPeer(parsePeer(`${fp}@[::1]:9`)), `${fp}@[::1]:9`)
  // one character changed (its checksum then fails): another character, whatever the random one was
  const changed = fp.slice(0, -1) + (fp.endsWith('x') ? 'y' : 'x')
  t.throws(() => parsePeer(`${changed}@127.0.0.1:1`), { code: 'BAD_FINGERPRINT' })
  t.throws(() => parsePeer(`${fp}@localhost`), { code: 'BAD_ARGUMENT', message: /--peer must be host:port/ })
})

t.test('flags override config.yaml; --bootstrap replaces the configured list', async t => {
  const { paths } = await profileHome(t)
  await writeFile(paths.config, 'port: 40001\nhost: 127.0.0.1\nmdns: false\nbootstrap: ["10.0.0.1:1000", "[fd00::1]:2000"]\nlogLevel: debug\n')
  const fromConfig = await resolveSettings(paths, {})
  t.same({ ...fromConfig, paths: undefined }, {
    paths: undefined,
    host: '127.0.0.1',
    port: 40001,
    mdns: false,
    portmap: true,
    peers: [],
    bootstrap: [{ host: '10.0.0.1', port: 1000 }, { host: 'fd00::1', port: 2000 }],
    logLevel: 'debug',
    files: { downloadDir: defaultDownloadDir(), autoAcceptBytes: 16 * 1024 * 1024, autoAcceptPendingBytes: 64 * 1024 * 1024, keepEndedMs: 30 * 86_400_000, keepEnded: 500 },
    notify: 'off'
  })
  const flagged = await resolveSettings(paths, { port: 0, host: '::1', mdns: true, peer: ['127.0.0.1:5', '[::1]:6'], bootstrap: ['1.2.3.4:7'] })
  t.equal(flagged.port, 0)
  t.equal(flagged.host, '::1')
  t.equal(flagged.mdns, true)
  t.same(flagged.peers, [{ host: '127.0.0.1', port: 5 }, { host: '::1', port: 6 }])
  t.same(flagged.bootstrap, [{ host: '1.2.3.4', port: 7 }])
  await t.rejects(resolveSettings(paths, { peer: ['nope'] }), { code: 'BAD_ARGUMENT' })
  await writeFile(paths.config, 'port: "x"\n')
  await t.rejects(resolveSettings(paths, {}), { code: 'BAD_CONFIG' })
})

t.test('the detached child gets exactly the settings its parent resolved', async t => {
  const { paths } = await profileHome(t)
  await writeFile(paths.config, 'port: 40001\nhost: 127.0.0.1\nmdns: true\nbootstrap: ["10.0.0.1:1000"]\n')
  for (const flags of [{}, { port: 0, host: '::1', mdns: false, portmap: false, peer: ['127.0.0.1:5', '[::1]:6'], bootstrap: ['1.2.3.4:7', '[fd00::1]:8'] }]) {
    const parent = await resolveSettings(paths, flags)
    const { home, flags: back } = parseChildArgs(childArgs(parent))
    t.equal(home, paths.home)
    t.same(await resolveSettings(paths, back), parent, 'host, port, mdns, portmap, peers and bootstrap survive the command line')
  }
  t.throws(() => parseChildArgs(['--home', paths.home, '--bogus']), { code: 'BAD_ARGUMENT' })
  t.throws(() => parseChildArgs(['--port', '1']), { code: 'BAD_ARGUMENT', message: /--home is required/ })
  await t.rejects(resolveSettings(paths, parseChildArgs(['--home', paths.home, '--port', 'x']).flags), { code: 'BAD_ARGUMENT' })
})

t.test('findDaemon, requireDaemon, daemonStatus and assertNoDaemon with and without a daemon', async t => {
  const { paths, fingerprint } = await profileHome(t)
  t.equal(await findDaemon(paths), undefined)
  await t.rejects(requireDaemon(paths), { code: 'DAEMON_NOT_RUNNING', message: /no dmess daemon is running for .*dmess daemon --detach/ })
  t.same(await daemonStatus(paths), { running: false })
  await assertNoDaemon(paths)

  const d = new Daemon({ paths, host: '127.0.0.1', port: 0, mdns: false, peers: [], bootstrap: [], log: silentLogger() }, await unlock(paths, PASS))
  t.teardown(async () => { await d.stop() })
  await d.start()
  const s = await daemonStatus(paths)
  t.equal(s.running, true)
  t.equal('fingerprint' in s && s.fingerprint, fingerprint)
  const c = await requireDaemon(paths)
  t.equal((await c.call('status', {})).pid, process.pid)
  c.close()
  await t.rejects(assertNoDaemon(paths), { code: 'DAEMON_RUNNING', message: new RegExp(`\\(pid ${process.pid}\\)`) })
})
