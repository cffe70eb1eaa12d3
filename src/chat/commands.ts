// The chat's slash commands: a line starting with "/" (but not "//") is one of these, never a
// message. Each is one entry of COMMANDS (names, usage, help line, and a pure step over the state),
// so a new command is one more entry, and /help lists them from the same table.
import { quit, sendLine, stopTyping } from './actions.js'
import { busiestElsewhere, findRequest, labelOf, requestLabel, requestLines } from './elsewhere.js'
import { peerLabel, statusMark } from './layout.js'
import { notice, type ChatState, type Effect } from './model.js'
import { messageBack, quoteLine, withQuote } from './quote.js'
import * as ed from './line-editor.js'
import { terminalSafe } from '../platform/terminal-text.js'

export interface CommandContext {
  /** the rest of the line after the command's name, trimmed */
  arg: string
  now: number
  effects: Effect[]
}

export interface Command {
  names: readonly string[]
  usage: string
  help: string
  run: (s: ChatState, ctx: CommandContext) => ChatState
}

const info = (s: ChatState, text: string, now: number): ChatState => ({ ...s, notice: notice(text, 'info', now) })
const error = (s: ChatState, text: string, now: number): ChatState => ({ ...s, notice: notice(text, 'error', now) })

function switchTo (s: ChatState, { arg, now, effects }: CommandContext): ChatState {
  const query = arg !== '' ? arg : busiestElsewhere(s)
  if (query === null) return error(s, 'no other conversation has unread messages; /c <name> opens one', now)
  if (query === s.peer.fingerprint || query === s.peer.name) return info(s, `already chatting with ${peerLabel(s.peer)}`, now)
  effects.push({ type: 'open', query })
  return info(stopTyping(s, effects), `opening ${arg !== '' ? terminalSafe(arg) : labelOf(s, query)}…`, now)
}

function answer (kind: 'accept' | 'decline') {
  return (s: ChatState, { arg, now, effects }: CommandContext): ChatState => {
    if (arg === '') return error(s, `usage: /${kind} <n|name> (/requests lists them)`, now)
    const r = findRequest(s.requests, arg)
    if (typeof r === 'string') return error(s, r, now)
    const label = requestLabel(r)
    effects.push(kind === 'accept' ? { type: 'acceptRequest', fingerprint: r.fingerprint, label } : { type: 'declineRequest', fingerprint: r.fingerprint, label })
    return info(s, `${kind === 'accept' ? 'accepting' : 'declining'} ${label}…`, now)
  }
}

function reply (s: ChatState, { arg, now, effects }: CommandContext): ChatState {
  const [n = '', ...words] = arg.split(/ +/)
  const m = messageBack(s.messages, n)
  if (typeof m === 'string') return error(s, m, now)
  const quote = quoteLine(m)
  const text = arg.slice(n.length).trim()
  if (text === '') return { ...s, replyTo: quote, notice: null }
  return sendLine(s, withQuote(quote, text), `/reply ${n} ${words.join(' ')}`, effects)
}

/** What each delivery mark means, from the marks the screen draws (layout.ts), so they agree. */
const MARK_MEANING = { sending: 'queued, not yet at their node', sent: 'their node has it', delivered: 'delivered to them', read: 'they read it' } as const
export const MARKS_HELP = 'Marks on your messages: ' + (Object.keys(MARK_MEANING) as Array<keyof typeof MARK_MEANING>)
  .map(st => `${statusMark(st)?.text ?? ''} ${MARK_MEANING[st]}`).join(' · ')

export const COMMANDS: readonly Command[] = [
  { names: ['/help', '/?'], usage: '/help', help: 'this list', run: (s) => ({ ...s, panel: { title: 'help', lines: helpLines() }, notice: null }) },
  { names: ['/c', '/switch'], usage: '/c <name>', help: 'open another conversation; /c alone: the one with unread messages', run: switchTo },
  { names: ['/requests'], usage: '/requests', help: 'pending contact requests', run: (s) => ({ ...s, panel: { title: 'contact requests', lines: requestLines(s.requests) }, notice: null }) },
  { names: ['/accept'], usage: '/accept <n|name>', help: 'make a requester a contact', run: answer('accept') },
  { names: ['/decline'], usage: '/decline <n|name>', help: 'drop a contact request', run: answer('decline') },
  {
    names: ['/search'],
    usage: '/search <text>',
    help: 'find messages in this conversation',
    run: (s, { arg, now, effects }) => {
      if (arg === '') return error(s, 'usage: /search <text>', now)
      effects.push({ type: 'search', query: arg })
      return info(s, `searching for "${terminalSafe(arg)}"…`, now)
    }
  },
  {
    names: ['/file'],
    usage: '/file <path>',
    help: 'offer a file to them; dmess files shows progress',
    run: (s, { arg, now, effects }) => {
      if (arg === '') return error(s, 'usage: /file <path>', now)
      effects.push({ type: 'sendFile', path: arg })
      return info(s, `offering ${terminalSafe(arg)}…`, now)
    }
  },
  { names: ['/reply'], usage: '/reply <n> [text]', help: 'quote message n (1 = the newest) in your answer; without text, the next line you send', run: reply },
  { names: ['/quit', '/exit', '/q'], usage: '/quit', help: 'leave (or Ctrl-C)', run: (s, { effects }) => quit(s, effects) }
]

export function helpLines (): string[] {
  return [
    'Enter sends; Alt-Enter or Ctrl-J starts a new line in the message.',
    ...COMMANDS.map(c => `${c.usage} — ${c.help}`),
    '//text sends a line starting with "/".',
    'PgUp/PgDn scroll; Esc closes this panel and jumps to the newest message.',
    'Up/Down recall sent lines; Ctrl-U, Ctrl-W and Ctrl-K erase; Ctrl-A/Ctrl-E go to the start/end.',
    MARKS_HELP + '.'
  ]
}

/** The command a line names, and its argument; null for a message. */
export function parseCommand (line: string): { name: string, arg: string } | null {
  if (!line.startsWith('/') || line.startsWith('//')) return null
  const m = /^(\S+)\s*([\s\S]*)$/.exec(line.trim())
  return m === null ? null : { name: (m[1] as string).toLowerCase(), arg: (m[2] as string).trim() }
}

/** Runs a command line: the input is cleared unless the command failed (the user can fix it). */
export function runCommand (s: ChatState, line: string, now: number, effects: Effect[]): ChatState {
  const parsed = parseCommand(line)
  if (parsed === null) return s
  const cmd = COMMANDS.find(c => c.names.includes(parsed.name))
  if (cmd === undefined) return error(s, `unknown command ${terminalSafe(parsed.name)} (try /help; //text sends a line starting with /)`, now)
  const next = cmd.run({ ...s, input: ed.EMPTY_LINE, recall: null, draft: '' }, { arg: parsed.arg, now, effects })
  return next.notice?.kind === 'error' && next.notice !== s.notice ? { ...next, input: s.input } : next
}
