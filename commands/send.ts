import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { withDaemon } from '../src/cli/messaging.js'
import { messageText } from '../src/cli/message-text.js'

export default class Send extends BaseCommand {
  static override description = 'Send a message to a contact (kept in the outbox and retried until delivered)'
  static override examples = [
    '<%= config.bin %> send bob "see you at noon"',
    '<%= config.bin %> send bob "are you there?" --wait delivered --timeout 10 --json',
    'fortune | <%= config.bin %> send bob',
    '<%= config.bin %> send bob --message-file notes.txt'
  ]

  static override args = {
    // ignoreStdin: oclif would otherwise fill a missing argument from stdin itself, trimmed,
    // line endings rewritten and given up after 10 ms; src/cli/message-text.ts reads it whole
    contact: Args.string({ required: true, ignoreStdin: true, description: 'fingerprint, fingerprint prefix or name' }),
    text: Args.string({ required: false, ignoreStdin: true, description: 'the message; `-` or none with stdin not a terminal: read from stdin (one trailing newline dropped; at most 64 KiB)' })
  }

  static override flags = {
    'message-file': Flags.string({ description: 'read the message from this file (one trailing newline dropped; at most 64 KiB)' }),
    json: Flags.boolean({ description: 'print {"id","status","timestamp"} as JSON' }),
    wait: Flags.string({ description: 'wait until the message is delivered (or read); exit 1 if it is not within --timeout', options: ['sent', 'delivered', 'read'] }),
    timeout: Flags.integer({ description: 'seconds to --wait (default 30)', min: 1, max: 3600, default: 30 })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Send)
    const text = await messageText({ arg: args.text, file: flags['message-file'], stdin: process.stdin })
    const wait = flags.wait as 'sent' | 'delivered' | 'read' | undefined
    const timeoutMs = flags.timeout * 1000
    const r = await withDaemon(this.paths(flags.home), async (_call, withTimeout) =>
      await withTimeout(timeoutMs + 10_000)('messages.send', { contact: args.contact, text, ...(wait === undefined ? {} : { wait, timeoutMs }) }))
    if (flags.json) { this.printJson({ id: r.id, status: r.status, timestamp: r.timestamp }); return }
    this.log(`${r.status === 'sending' ? 'Queued' : 'Sent'}: ${r.id} (${r.status})`)
  }
}
