import { BaseCommand } from '../src/cli/base.js'
import { stopAgent } from '../src/cli/daemon-client.js'

export default class Lock extends BaseCommand {
  static override description = 'Lock the keys now: stop the unlock agent that `dmess unlock` started (it wipes the keys and closes the store) and wait until it has exited. A running daemon is left alone (exit 1: it holds the keys until `dmess stop`); with nothing running there is nothing to lock (exit 0)'
  static override examples = ['<%= config.bin %> lock']

  async run (): Promise<void> {
    const { flags } = await this.parse(Lock)
    const paths = this.paths(flags.home)
    const stopped = await stopAgent(paths)
    if (stopped === undefined) this.log(`nothing to lock: no unlock agent runs for ${paths.home}`)
    else this.log(`locked: the unlock agent (pid ${stopped.pid}) stopped and wiped the keys`)
  }
}
