// Our STUN client against coturn (`turnserver`, an independent RFC 5389/5780 server), started by
// this test on 127.0.0.1 and 127.0.0.2 with a loopback-only, STUN-only configuration and stopped
// by its PID. The client runs on a real UDP socket through the same StunService and NatProbe the
// node uses: coturn's XOR-MAPPED-ADDRESS must be our socket, and asked at its two IPs the probe
// classifies loopback as 'open'. Skipped with the reason when coturn is missing, except under
// CI=true (.ci/run installs it). proto-spec/stun.md §4.
import t from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSocket } from 'node:dgram'
import { udpSockets } from '../../src/io/udp.js'
import { realScheduler } from '../../src/io/scheduler.js'
import { osRandom } from '../../src/io/random.js'
import { StunService } from '../../src/stun/service.js'
import { NatProbe } from '../../src/stun/probe.js'
import type { PeerAddress } from '../../src/io/address.js'

const START_TIMEOUT_MS = 15_000

function coturnMissing (): string | null {
  const r = spawnSync('turnserver', ['--version'], { encoding: 'utf8' })
  return r.error === undefined ? null : `coturn's turnserver is not installed (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}; apt-get install coturn)`
}

/** A UDP port free on both loopback addresses right now (coturn binds it on each). */
async function freePort (): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>(resolve => s.bind(0, '127.0.0.1', resolve))
  const port = s.address().port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

const missing = coturnMissing()
if (missing !== null && process.env.CI === 'true') {
  t.fail(`coturn must run in CI, but: ${missing}`)
} else if (missing !== null) {
  console.log(`# skipping the coturn interop test: ${missing}`)
  t.plan(0, missing)
} else {
  t.test('our client reads its address from coturn, and the probe classifies through it', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'dmess-coturn-'))
    const port = await freePort()
    const child: ChildProcess = spawn('turnserver', [
      '-n', '--listening-ip=127.0.0.1', '--listening-ip=127.0.0.2', `--listening-port=${port}`,
      '--no-tls', '--no-dtls', '--no-cli', '--stun-only', '--no-auth', `--userdb=${join(dir, 'turndb')}`,
      `--pidfile=${join(dir, 'turnserver.pid')}`, '--log-file=stdout', '--no-stdout-log'
    ], { stdio: 'ignore' })
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
    t.teardown(async () => {
      if (child.exitCode === null && child.pid !== undefined) { process.kill(child.pid, 'SIGTERM'); await exited }
      rmSync(dir, { recursive: true, force: true })
    })

    const socket = await udpSockets.bind({ host: '127.0.0.1', port: 0 })
    t.teardown(async () => { await socket.close() })
    const stun = new StunService({ send: (to, b) => { socket.send(to, b) }, scheduler: realScheduler, random: osRandom(), serve: () => false })
    socket.onDatagram = (b, from) => { stun.receive(b, from) }
    const servers: PeerAddress[] = [{ host: '127.0.0.1', port }, { host: '127.0.0.2', port }]

    // coturn needs a moment to bind: ask until it answers, bounded (each try retransmits by itself)
    const started = Date.now()
    let first = null
    while (first === null && Date.now() - started < START_TIMEOUT_MS && child.exitCode === null) {
      first = await stun.client.binding(servers[0]!).catch(() => null)
    }
    t.ok(first, `coturn answered within ${START_TIMEOUT_MS} ms`)
    t.same(first?.reflexive, socket.local, "coturn's XOR-MAPPED-ADDRESS is our socket's address")

    const probe = new NatProbe({ client: stun.client, scheduler: realScheduler, servers: () => servers, local: () => ({ port: socket.local.port, ips: ['127.0.0.1'] }) })
    const s = await probe.probe()
    t.equal(s.answered, 2, 'both of coturn\'s addresses answered')
    t.equal(s.natKind, 'open', 'same address and port from both, and it is ours: no NAT')
    t.same(s.reflexive, [`127.0.0.1:${socket.local.port}`])
    t.same(stun.drops, {}, 'every answer decoded and matched (coturn\'s extra attributes, e.g. RFC 5780 OTHER-ADDRESS, are comprehension-optional)')
  })
}
