import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { time, withDaemon } from '../src/cli/messaging.js'
import { errors } from '../src/errors.js'
import { terminalSafe } from '../src/platform/terminal-text.js'

export default class Block extends BaseCommand {
  static override description = 'Block a contact, a requester (by fingerprint, prefix or the name it gave) or any fingerprint: what it sends is acknowledged and dropped unread (it sees "delivered", never "read"), never shown, not even after `unblock`; nothing of ours goes to it. `--list` shows who is blocked'
  static override examples = [
    '<%= config.bin %> block mallory',
    '<%= config.bin %> block --list'
  ]

  static override args = { contact: Args.string({ required: false, description: 'fingerprint, fingerprint prefix, contact name, or the name a requester gave' }) }
  static override flags = {
    list: Flags.boolean({ description: 'list the blocked fingerprints, with names where known and since when' }),
    json: Flags.boolean({ description: 'print {"fingerprint","changed"} as JSON; with --list, [{"fingerprint","name","blockedAt"}] (blockedAt in ms since the epoch)' })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Block)
    const paths = this.paths(flags.home)
    if (flags.list) {
      if (args.contact !== undefined) throw errors.BAD_ARGUMENT('--list takes no fingerprint or name')
      const rows = await withDaemon(paths, async call => await call('contacts.blocked', {}))
      if (flags.json) { this.printJson(rows.map(b => ({ fingerprint: b.fingerprint, name: b.name, blockedAt: Date.parse(b.blockedAt) }))); return }
      if (rows.length === 0) { this.log('Nobody is blocked.'); return }
      for (const b of rows) this.log(`${b.fingerprint}  ${(b.name === null ? '-' : terminalSafe(b.name)).padEnd(20)} blocked ${time(Date.parse(b.blockedAt))}`)
      return
    }
    if (args.contact === undefined) throw errors.BAD_ARGUMENT('name someone to block (fingerprint, prefix or name), or --list to see who is blocked')
    const contact = args.contact
    const r = await withDaemon(paths, async call => await call('contacts.block', { contact }))
    if (flags.json) { this.printJson(r); return }
    this.log(r.changed ? `Blocked ${r.fingerprint}` : `${r.fingerprint} was already blocked`)
  }
}
