// Network lab: our port-mapping client against a real one, miniupnpd 2.3.1 (NAT-PMP and PCP) on a
// home router in namespaces (scripts/lab/miniupnpd.ts). The host behind it gets a PCP mapping for
// its UDP socket; an unsolicited datagram from the "internet" then reaches that socket through the
// router. The router reboots (miniupnpd restarts, its rules flushed as a power cycle would): the client sees the epoch
// start over and maps again, and datagrams get through again. The client stops: the mapping is
// deleted, and a datagram to the old port no longer reaches the host. natpmpc, an independent
// client, reads the same public address. NAT-PMP is checked against the same router too, and so
// is the real `dmess daemon` (mapping on by default, shown by `dmess status`, deleted on stop).
// Each datagram is sent by its own process from a fresh port (fixtures/portmap-lab.ts says why).
// Root only: skipped with the reason elsewhere — but under CI=true a missing prerequisite fails.
import t from 'tap'
import { labReady, nsExec, withLab } from '../../scripts/lab/netns.js'
import { iptablesUnavailableReason } from '../../scripts/lab/loss.js'
import { createUpnpSite, flushMiniupnpdRules, miniupnpdRules, miniupnpdUnavailableReason, startMiniupnpd, type Miniupnpd } from '../../scripts/lab/miniupnpd.js'
import { nsSpawn } from '../../scripts/lab/netns.js'
import { BIN, runCli } from '../helpers/cli.js'
import { cliHome, PW, waitFor } from '../daemon/helpers.js'
import { waitForExit } from '../../src/daemon/lock.js'
import { heard, sendFromInternet, spawnPortmapNode, status, statusLine, WAIT_MS } from './fixtures/portmap-lab.js'


if (labReady(t, 'the miniupnpd port-mapping lab', iptablesUnavailableReason, miniupnpdUnavailableReason)) {
  t.test('PCP port mapping through a real miniupnpd router', async t => {
    await withLab(async lab => {
      const site = await createUpnpSite(lab)
      let router: Miniupnpd = await startMiniupnpd(site)
      const node = spawnPortmapNode(site, ['--epoch-check-ms', '500'])
      try {
        const natpmpc = await nsExec(site.hostNs, 'natpmpc', ['-g', site.lanGateway])
        t.match(natpmpc, new RegExp(`Public IP address : ${site.wanAddress.replace(/\./g, '\\.')}`), 'natpmpc (an independent client) reads the router\'s public address')

        const { port } = await node.next(o => typeof o.port === 'number', WAIT_MS) as { port: number }
        const firstLine = await statusLine(node, s => s.state !== 'mapping' && s.state !== 'idle')
        const first = firstLine.status
        t.comment(`time to mapping: ${firstLine.atMs} ms after the client started, ${firstLine.sent} UDP sends`)
        t.equal(first.state, 'mapped', `mapped (${JSON.stringify(first.mapping)})`)
        t.equal(first.mapping?.protocol, 'pcp', 'over PCP, the first choice')
        t.equal(first.mapping?.external.host, site.wanAddress, 'at the router\'s public address, as natpmpc read it')
        t.equal(first.mapping?.publiclyReachable, true, 'a public address: reachable')
        const external = first.mapping!.external.port
        t.ok((await miniupnpdRules(site)).some(r => r.includes(`--dport ${external} `)), `the router holds a DNAT rule for port ${external}`)

        await sendFromInternet(site, site.wanAddress, external, 'unsolicited-1')
        const got = await node.next(o => o.heard === 'unsolicited-1', WAIT_MS)
        t.match(String(got.from), new RegExp(`^${site.inetAddress.replace(/\./g, '\\.')}:`), `an unsolicited datagram from the internet reached the host's socket (port ${port}) through the mapping`)

        await t.test('the router reboots: the client notices by the epoch and maps again', async t => {
          await status(node, s => (s.epochS ?? 0) >= 3) // the epoch must have grown for its restart to show
          await router.stop()
          await flushMiniupnpdRules(site) // a reboot loses the kernel's tables too
          t.notOk((await miniupnpdRules(site)).some(r => r.includes(`--dport ${external} `)), 'the restarted router has forgotten the mapping')
          await sendFromInternet(site, site.wanAddress, external, 'while-down')
          const mark = node.lines.length
          router = await startMiniupnpd(site)
          const again = await status(node, s => s.gatewayResets >= 1 && s.state === 'mapped', mark)
          t.equal(again.mapping?.external.host, site.wanAddress)
          t.ok((await miniupnpdRules(site)).some(r => r.includes(`--dport ${again.mapping!.external.port} `)), 'the rule is back')
          await sendFromInternet(site, site.wanAddress, again.mapping!.external.port, 'unsolicited-2')
          await node.next(o => o.heard === 'unsolicited-2', WAIT_MS)
          t.pass('datagrams reach the host again')
          t.notOk(heard(node).includes('while-down'), 'the one sent while the router had no rule was lost')
        })

        await t.test('stop deletes the mapping: the port no longer reaches the host', async t => {
          const before = (await miniupnpdRules(site)).length
          node.proc.stdin!.write('stop\n')
          await node.next(o => o.stopped === true, WAIT_MS)
          const rules = await miniupnpdRules(site)
          t.equal(rules.length, before - 1, 'the router removed the rule when asked (lifetime 0)')
          await sendFromInternet(site, site.wanAddress, external, 'after-delete')
          // a new client maps again; a datagram through it proves the host was listening all along
          const mark = node.lines.length
          node.proc.stdin!.write('map\n')
          const remapped = await status(node, s => s.state === 'mapped', mark)
          await sendFromInternet(site, site.wanAddress, remapped.mapping!.external.port, 'unsolicited-3')
          await node.next(o => o.heard === 'unsolicited-3', WAIT_MS)
          t.notOk(heard(node).includes('after-delete'), 'the datagram sent after the delete never arrived')
          t.same(heard(node).filter(h => h.startsWith('unsolicited')), ['unsolicited-1', 'unsolicited-2', 'unsolicited-3'], 'all and only the datagrams sent while mapped arrived')
        })

        await t.test('`dmess daemon` maps its port by default, `dmess status` shows it, stop deletes it; --no-portmap does not map', async t => {
          const h = await cliHome(t, 'pm')
          const env: Record<string, string> = { ...PW }
          for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DMESS_HOME' && k !== 'DMESS_PASSPHRASE') env[k] = v
          const status = async (): Promise<{ port: number, portmap?: { enabled: boolean, state: string, protocol?: string, mapped?: string, publiclyReachable: boolean } }> => {
            const r = await runCli(['status', '--json', '--home', h.home])
            return JSON.parse(r.stdout) as Awaited<ReturnType<typeof status>>
          }
          const run = async (extra: string[]): Promise<{ stop: () => Promise<void> }> => {
            const child = nsSpawn(site.hostNs, process.execPath, [BIN, 'daemon', '--home', h.home, '--host', '0.0.0.0', '--port', '0', '--no-mdns', ...extra], { env })
            let log = ''
            child.stdout?.on('data', d => { log += String(d) })
            child.stderr?.on('data', d => { log += String(d) })
            await waitFor(() => log.includes('dmess daemon running'), WAIT_MS, () => `the daemon did not start: ${log}`)
            return {
              stop: async () => {
                if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
                if (child.pid !== undefined && !await waitForExit(child.pid, 15_000)) process.kill(child.pid, 'SIGKILL')
              }
            }
          }
          const daemon = await run([])
          let s: Awaited<ReturnType<typeof status>>
          try {
            await waitFor(async () => (await status()).portmap?.state === 'mapped', WAIT_MS, () => 'the daemon never reported a mapping')
            s = await status()
            t.match(s.portmap, { enabled: true, state: 'mapped', protocol: 'pcp', mapped: `${site.wanAddress}:${s.port}`, publiclyReachable: true }, 'status --json: mapped at the router\'s address, same port, publicly reachable')
            const text = (await runCli(['status', '--home', h.home])).stdout
            t.match(text, new RegExp(`Port map: +${site.wanAddress.replace(/\./g, '\\.')}:${s.port} via pcp on ${site.lanGateway.replace(/\./g, '\\.')}, lapses in \\d+ s unless renewed; publicly reachable`), 'dmess status shows the mapping in one line')
            t.ok((await miniupnpdRules(site)).some(r => r.includes(`--dport ${s.port} `)), 'the router holds the rule')
          } finally {
            await daemon.stop()
          }
          t.notOk((await miniupnpdRules(site)).some(r => r.includes(`--dport ${s.port} `)), 'the daemon deleted its mapping when it stopped')

          const before = (await miniupnpdRules(site)).length
          const off = await run(['--no-portmap'])
          try {
            t.match((await status()).portmap, { enabled: false, state: 'off', publiclyReachable: false }, '--no-portmap: nothing is mapped')
            t.equal((await miniupnpdRules(site)).length, before, 'and the router was not asked')
          } finally {
            await off.stop()
          }
        })

        await t.test('NAT-PMP (RFC 6886) with the same router: mapped, reachable, deleted', async t => {
          const pmp = spawnPortmapNode(site, ['--protocols', 'nat-pmp'])
          try {
            const s = await status(pmp, st => st.state !== 'mapping' && st.state !== 'idle')
            t.equal(s.mapping?.protocol, 'nat-pmp')
            t.equal(s.mapping?.external.host, site.wanAddress, 'the public address from the NAT-PMP address request')
            const p = s.mapping!.external.port
            await sendFromInternet(site, site.wanAddress, p, 'via-natpmp')
            await pmp.next(o => o.heard === 'via-natpmp', WAIT_MS)
            t.pass('an unsolicited datagram arrived through the NAT-PMP mapping')
            pmp.proc.stdin!.write('stop\n')
            await pmp.next(o => o.stopped === true, WAIT_MS)
            t.notOk((await miniupnpdRules(site)).some(r => r.includes(`--dport ${p} `)), 'deleted on stop (lifetime 0, port 0)')
          } finally {
            pmp.stop()
          }
        })
      } finally {
        node.stop()
        await router.stop()
      }
    })
  })
}
