import { Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { passphraseFlags, withPassphrase } from '../src/cli/passphrase.js'
import { daemonStatus } from '../src/cli/daemon-client.js'
import { assertInitialised } from '../src/app/profile.js'
import { agentChildArgs, startDetached } from '../src/daemon/detach.js'
import { DEFAULT_UNLOCK_MS, formatDuration, parseDuration } from '../src/daemon/agent.js'

export default class Unlock extends BaseCommand {
  static override summary = 'Unlock your keys for a while (default 1h) without going online: the other commands then need no passphrase until it is up or `dmess lock`'
  static override description = 'Asks the passphrase once and starts the unlock agent: a background process that holds the keys and the store and answers the other commands (contacts, send — queued in the outbox —, history, requests, files …) without a passphrase, with no network at all (no UDP socket, DHT or mDNS). It stops by itself when the time is up, counted from the unlock (not from the last command), and at `dmess lock`; `dmess daemon` takes its place to go online (it asks the passphrase). With a daemon or an agent already running it starts nothing and says so (exit 0)'
  static override examples = [
    '<%= config.bin %> unlock',
    '<%= config.bin %> unlock --for 15m',
    '<%= config.bin %> unlock --for 2h30m --passphrase-file ~/.dmess-pass'
  ]

  static override flags = {
    for: Flags.string({ description: `how long the keys stay unlocked: a number and a unit, s, m, h or d, e.g. 15m, 2h, 1h30m; at most 7d (default ${formatDuration(DEFAULT_UNLOCK_MS)})` }),
    json: Flags.boolean({ description: 'print the agent\'s status as JSON (mode "agent", locksAt), or the running daemon\'s' }),
    ...passphraseFlags
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Unlock)
    const lockAfterMs = flags.for === undefined ? DEFAULT_UNLOCK_MS : parseDuration(flags.for)
    const paths = this.paths(flags.home)
    await assertInitialised(paths)
    // before the prompt: with the keys already held there is nothing to unlock
    const running = await daemonStatus(paths)
    if (running.running) {
      if (flags.json) { this.printJson(running); return }
      if (running.mode === 'agent') this.log(`already unlocked until ${running.locksAt ?? '?'} (unlock agent, pid ${running.pid}); to unlock for another time: dmess lock, then dmess unlock`)
      else this.log(`the dmess daemon (pid ${running.pid}) is running and holds the keys; nothing to unlock`)
      return
    }
    const s = await withPassphrase(flags, async passphrase => await startDetached({ paths, args: agentChildArgs(paths, lockAfterMs), passphrase }))
    if (flags.json) { this.printJson(s); return }
    this.log(`unlocked for ${formatDuration(lockAfterMs)}, until ${s.locksAt ?? '?'} (unlock agent, pid ${s.pid}; offline; dmess lock locks now)`)
  }
}
