import { Args } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { requireDaemon } from '../src/cli/daemon-client.js'
import { forceInteractiveRendering } from '../src/chat/tty.js'

export default class Chat extends BaseCommand {
  static override summary = 'Chat with a contact, full screen; without a contact, pick one of your conversations'
  static override description = [
    'Needs a running daemon and a terminal. Messages shown are marked read, so the sender sees them as read. Your own messages carry ✓ sent, ✓✓ delivered or ✓✓ read. The peer sees when you type, and you see when they do.',
    'Keys: Enter sends; /quit or Ctrl-C leaves; PgUp/PgDn scroll and Esc jumps to the newest; Up/Down recall sent lines; Left/Right, Home/End (Ctrl-A/Ctrl-E) and Ctrl-Left/Right move; Backspace, Ctrl-D, Ctrl-U (to the start), Ctrl-K (to the end) and Ctrl-W (a word) erase; /help lists them; //text sends "/text".'
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> chat bob',
    '<%= config.bin %> chat a1b2c3d4',
    '<%= config.bin %> chat'
  ]

  static override args = {
    contact: Args.string({ required: false, description: 'fingerprint, fingerprint prefix or name (absent: list conversations with unread counts)' })
  }

  async run (): Promise<void> {
    const { args, flags } = await this.parse(Chat)
    const client = await requireDaemon(this.paths(flags.home))
    forceInteractiveRendering()
    // ink (and React) load only here: other commands never pay for them
    const { runChat } = await import('../src/chat/run.js')
    const { IpcChatBackend } = await import('../src/chat/ipc-backend.js')
    await runChat({ backend: new IpcChatBackend(client), query: args.contact })
  }
}
