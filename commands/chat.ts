import { Args } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { requireDaemon } from '../src/cli/daemon-client.js'
import { forceInteractiveRendering } from '../src/chat/tty.js'

export default class Chat extends BaseCommand {
  static override summary = 'Chat with a contact, full screen; without a contact, pick one of your conversations'
  static override description = [
    'Needs a running daemon and a terminal. Messages shown are marked read, so the sender sees them as read. Your own messages carry … while queued (not yet at their node), ✓ once their node has it, ✓✓ delivered and ✓✓ read. The peer sees when you type, and you see when they do. The header shows whether the contact is verified, online, or offline and when they were last seen, and how many messages wait unread in other conversations.',
    'Keys: Enter sends; Alt-Enter or Ctrl-J starts a new line in the message; /quit or Ctrl-C leaves; PgUp/PgDn scroll and Esc jumps to the newest; Up/Down recall sent lines; Left/Right, Home/End (Ctrl-A/Ctrl-E) and Ctrl-Left/Right move; Backspace, Ctrl-D, Ctrl-U (to the start), Ctrl-K (to the end) and Ctrl-W (a word) erase; //text sends "/text".',
    'Commands: /c <name> (or /switch) opens another conversation, /c alone the one with unread messages (a message elsewhere rings the terminal bell); /requests lists contact requests, /accept <n|name> and /decline <n|name> answer them; /search <text> lists matching messages; /reply <n> [text] quotes the message n back from the newest (1 = the newest) as a first line "> …"; /help lists all of them.'
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
