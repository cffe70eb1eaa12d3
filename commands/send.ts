import { resolve } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { withDaemon } from '../src/cli/messaging.js'
import { followTransfers, isFinished } from '../src/cli/files.js'
import { messageText } from '../src/cli/message-text.js'

export default class Send extends BaseCommand {
  static override description = 'Send a message or files to a contact (messages are kept in the outbox and retried until delivered; files are offered and resume after any interruption)'
  static override examples = [
    '<%= config.bin %> send bob "see you at noon"',
    '<%= config.bin %> send bob "are you there?" --wait delivered --timeout 10 --json',
    '<%= config.bin %> send bob --file report.pdf --file photo.jpg',
    'fortune | <%= config.bin %> send bob',
    '<%= config.bin %> send bob --message-file notes.txt'
  ]

  static override args = {
    // stdin is read by src/cli/message-text.ts, whole and capped (BaseCommand keeps oclif from
    // filling a missing argument with it, trimmed and given up after 10 ms)
    contact: Args.string({ required: true, description: 'fingerprint, fingerprint prefix or name' }),
    text: Args.string({ required: false, description: 'the message; `-` or none with stdin not a terminal: read from stdin (one trailing newline dropped; at most 64 KiB); optional with --file' })
  }

  static override flags = {
    'message-file': Flags.string({ description: 'read the message from this file (one trailing newline dropped; at most 64 KiB)' }),
    json: Flags.boolean({ description: 'print {"id","status","timestamp"} as JSON (with --file: {"message"?, "files": [transfer, …]})' }),
    wait: Flags.string({ description: 'wait until the message is delivered (or read); exit 1 if it is not within --timeout', options: ['sent', 'delivered', 'read'] }),
    timeout: Flags.integer({ description: 'seconds to --wait', min: 1, max: 3600, default: 30 }),
    file: Flags.string({ description: 'a file to send (repeatable); on a terminal a progress bar follows it until done', multiple: true })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Send)
    const files = (flags.file ?? []).map(f => resolve(f))
    // with --file, a message goes along only when one is given (an argument, `-` or --message-file)
    const text = files.length > 0 && args.text === undefined && flags['message-file'] === undefined
      ? undefined
      : await messageText({ arg: args.text, file: flags['message-file'], stdin: process.stdin })
    const wait = flags.wait as 'sent' | 'delivered' | 'read' | undefined
    const timeoutMs = flags.timeout * 1000
    const tty = process.stdout.isTTY === true && !flags.json
    const r = await withDaemon(this.paths(flags.home), async (call, withTimeout) => {
      const message = text === undefined
        ? undefined
        : await withTimeout(timeoutMs + 10_000)('messages.send', { contact: args.contact, text, ...(wait === undefined ? {} : { wait, timeoutMs }) })
      // hashing a large file takes a while: no IPC timeout shorter than that
      const sent = files.length === 0 ? [] : await withTimeout(3600_000)('files.send', { contact: args.contact, paths: files })
      const final = tty && sent.length > 0 ? await followTransfers(call, sent.map(t => t.id), process.stdout) : sent
      return { message, files: final }
    })
    if (flags.json) {
      const m = r.message === undefined ? undefined : { id: r.message.id, status: r.message.status, timestamp: r.message.timestamp }
      this.printJson(files.length === 0 ? m : { ...(m === undefined ? {} : { message: m }), files: r.files })
      return
    }
    if (r.message !== undefined) this.log(`${r.message.status === 'sending' ? 'Queued' : 'Sent'}: ${r.message.id} (${r.message.status})`)
    for (const t of r.files) this.log(`${isFinished(t) ? t.state[0]?.toUpperCase() + t.state.slice(1) : 'Offered'}: ${t.id} ${t.name} (${t.size} bytes)`)
    if (r.files.some(t => t.state === 'failed' || t.state === 'declined' || t.state === 'cancelled')) this.exit(1)
  }
}
