import { BaseCommand } from '../src/cli/base.js'
import { stopDaemon } from '../src/cli/daemon-client.js'

export default class Stop extends BaseCommand {
  static override description = 'Stop the daemon of this home and wait until it has exited'

  async run (): Promise<void> {
    const { flags } = await this.parse(Stop)
    const { pid, agent } = await stopDaemon(this.paths(flags.home))
    this.log(agent ? `dmess unlock agent stopped (pid ${pid}): the keys are locked` : `dmess daemon stopped (pid ${pid})`)
  }
}
