import { Flags } from '@oclif/core'
import { BaseCommand } from '../../src/cli/base.js'
import { withDaemon } from '../../src/cli/messaging.js'
import { transferLine } from '../../src/cli/files.js'
import { terminalSafe } from '../../src/platform/terminal-text.js'

export default class Files extends BaseCommand {
  static override description = 'List file transfers, both ways, with state and progress. Answer an offer with `dmess files accept|decline <id>`; stop one with `dmess files cancel <id>`; one stopped by a full disk goes on with `dmess files resume <id>`'
  static override flags = {
    json: Flags.boolean({ description: 'print an array of transfers: {"id","direction","peer","name","size","mediaType","root","state","reason","bytesDone","path","source","chunkBytesSent","chunkBytesReceived","badChunks","duplicateChunks","createdAt","updatedAt"}' })
  }

  async run (): Promise<void> {
    const { flags } = await this.parse(Files)
    const [list, contacts] = await withDaemon(this.paths(flags.home), async call => [await call('files.list', {}), await call('contacts.list', {})] as const)
    if (flags.json) { this.printJson(list); return }
    if (list.length === 0) { this.log('No file transfers.'); return }
    const names = new Map(contacts.map(c => [c.fingerprint, c.name ?? null]))
    for (const t of list) this.log(transferLine(t, terminalSafe(names.get(t.peer) ?? t.peer.slice(0, 12))))
  }
}
