import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { passphraseFlags, withPassphrase } from '../src/cli/passphrase.js'
import { assertInitialised } from '../src/app/profile.js'
import { assertNoDaemon, resolveSettings, runDaemon } from '../src/daemon/run.js'
import { formatHostPort } from '../src/io/address.js'
import { childArgs, startDetached } from '../src/daemon/detach.js'
import { daemonPaths } from '../src/daemon/paths.js'

export default class Daemon extends BaseCommand {
  static override description = 'Run your node: unlock the keys, open the store, listen on UDP and on a local socket for the other commands (an unlock agent of `dmess unlock` is stopped and replaced once the passphrase is right)'
  static override examples = [
    '<%= config.bin %> daemon',
    '<%= config.bin %> daemon --detach --port 47474',
    '<%= config.bin %> daemon --port 0 --host 127.0.0.1 --peer 127.0.0.1:47475 --no-mdns'
  ]

  static override flags = {
    detach: Flags.boolean({ description: 'run in the background (log in <home>/daemon.log); returns once the daemon is ready' }),
    port: Flags.integer({ description: 'UDP port (default: config "port"; 0 picks a free one)', min: 0, max: 65535 }),
    host: Flags.string({ description: 'address to bind the UDP socket to (default: config "host")' }),
    peer: Flags.string({ description: 'a peer to connect to at start, fingerprint@host:port (repeatable; a node answers only a dial that names its fingerprint, a bare host:port only if that peer dials us too)', multiple: true }),
    bootstrap: Flags.string({ description: 'DHT bootstrap node host:port (repeatable; replaces config "bootstrap")', multiple: true }),
    mdns: Flags.boolean({ description: 'LAN discovery with mDNS (default: config "mdns")', allowNo: true }),
    portmap: Flags.boolean({ description: 'ask the home router (PCP, NAT-PMP or UPnP IGD: all three asked at once, PCP preferred) to forward a public UDP port to this node; on by default, --no-portmap turns it off (a loopback-bound node is never mapped)', allowNo: true }),
    json: Flags.boolean({ description: 'with --detach: print the status as JSON' }),
    'log-format': Flags.string({ description: 'the log on stderr: "text" (readable lines: time, level, message, key=value) or "json" (one object per line); default text at a terminal, else json (a detached daemon\'s log file is always json)', options: ['text', 'json'] }),
    ...passphraseFlags
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Daemon)
    const paths = this.paths(flags.home)
    const settings = await resolveSettings(paths, flags)
    await assertInitialised(paths)
    // before the prompt: a second daemon is refused at once; an unlock agent is replaced once the
    // passphrase proves right (run.ts replaceAgent): it is asked for all the same
    const agent = await assertNoDaemon(paths, { allowAgent: true })
    const replaced = agent === undefined ? '' : ` in place of the unlock agent (pid ${agent.pid})`
    // both unlock first (the detached child reports a wrong passphrase back): a prompt asks again
    if (flags.detach) {
      const s = await withPassphrase(flags, async passphrase => await startDetached({ paths, args: childArgs(settings), passphrase }))
      if (flags.json) this.printJson(s)
      else this.log(`dmess daemon started (pid ${s.pid})${replaced}: udp ${formatHostPort({ host: s.host, port: s.port })}, log ${daemonPaths(paths).log}`)
      return
    }
    await withPassphrase(flags, async passphrase => await runDaemon(settings, passphrase, {
      onReady: s => this.log(`dmess daemon running (pid ${s.pid})${replaced}: ${s.fingerprint}, udp ${formatHostPort({ host: s.host, port: s.port })}, socket ${daemonPaths(paths).socket}. Ctrl-C stops it.`)
    }))
  }
}
