// `dmess chat`: opens a conversation (or first lets the user pick one), draws it full screen on
// the terminal's alternate screen, and gives the terminal back as it was on every way out:
// /quit, Ctrl-C, SIGTERM/SIGHUP, the daemon going away, or an error.
import { render, type Instance } from 'ink'
import { errors } from '../errors.js'
import { ChatApp, NEEDS_TERMINAL, PickerApp } from './app.js'
import { ChatController, HISTORY_PAGE, openChat } from './controller.js'
import { EventFeed } from './feed.js'
import type { PickerOutcome } from './picker.js'
import { holdRawMode, takeTypeAhead } from './tty.js'
import type { ChatBackend, ConversationSummary } from './types.js'

// xterm private modes: 1049 alternate screen (saves and restores what was on the terminal), 25 cursor
const ENTER_ALT = '\u001b[?1049h\u001b[H\u001b[2J'
const LEAVE_ALT = '\u001b[?25h\u001b[?1049l'
const CLEAR = '\u001b[H\u001b[2J'
/** The terminal's bell (ECMA-48 BEL): another conversation got a message, or a request came */
const BEL = '\u0007'

/** How long leaving waits for calls in flight (a last send, TYPING(false)) before closing the socket. */
export const SETTLE_MS = 2000

export interface RunChatOptions {
  backend: ChatBackend
  /** contact name, fingerprint or prefix; absent: pick from the conversations */
  query?: string
  stdin?: NodeJS.ReadStream
  stdout?: NodeJS.WriteStream
  now?: () => number
  historyPage?: number
}

interface Terminal { stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream }

function renderOptions (t: Terminal): Parameters<typeof render>[1] {
  // Ctrl-C is a key like any other here: the chat leaves cleanly on it (exitOnCtrlC would skip that)
  return { stdin: t.stdin, stdout: t.stdout, exitOnCtrlC: false, patchConsole: false }
}

/** Signals that should end the chat the way /quit does (in raw mode Ctrl-C is a key, not SIGINT). */
function onSignals (leave: () => void): () => void {
  const sigs: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT']
  for (const s of sigs) process.on(s, leave)
  return () => { for (const s of sigs) process.off(s, leave) }
}

async function pick (items: readonly ConversationSummary[], t: Terminal): Promise<string | null> {
  const chosen: { outcome: Exclude<PickerOutcome, null> } = { outcome: { type: 'cancel' } }
  const inst = render(<PickerApp items={items} onDone={o => { chosen.outcome = o }} />, renderOptions(t))
  const off = onSignals(() => inst.unmount())
  try {
    await inst.waitUntilExit()
  } finally {
    off()
  }
  return chosen.outcome.type === 'pick' ? chosen.outcome.fingerprint : null
}

async function converse (backend: ChatBackend, query: string, t: Terminal, opts: RunChatOptions, beforeDraw: () => Promise<void>): Promise<void> {
  const now = opts.now ?? Date.now
  const limit = opts.historyPage ?? HISTORY_PAGE
  const feed = new EventFeed()
  backend.onClose(error => feed.push({ kind: 'closed', error }))
  // subscribe before reading the history: nothing can arrive unseen in between
  await backend.subscribe(event => feed.push({ kind: 'event', event }))
  const [chat, others, requests] = await Promise.all([openChat(backend, query, limit), backend.conversations(), backend.requests()])
  const unread: Record<string, number> = {}
  const names: Record<string, string | null> = {}
  for (const c of others) {
    names[c.peer.fingerprint] = c.peer.name
    if (c.unread > 0) unread[c.peer.fingerprint] = c.unread
  }
  const controller = new ChatController(backend, {
    ...chat, unread, names, requests, now: now(), cols: t.stdout.columns || 80, rows: t.stdout.rows || 24
  }, { now, historyPage: limit, bell: () => t.stdout.write(BEL) })
  const unlisten = feed.listen(item => {
    if (item.kind === 'event') controller.dispatch({ type: 'event', event: item.event, now: now() })
    else controller.fail(item.error)
  })
  await beforeDraw()
  let inst: Instance | undefined
  const off = onSignals(() => controller.dispatch({ type: 'key', key: { name: 'interrupt' }, now: now() }))
  try {
    inst = render(<ChatApp controller={controller} />, renderOptions(t))
    await inst.waitUntilExit()
  } finally {
    off()
    unlisten()
    inst?.unmount()
    await controller.settle(SETTLE_MS)
  }
  if (controller.failure !== null) throw errors.IPC(`lost the connection to the daemon: ${controller.failure.message}`)
}

/** Ink reads keys only in raw mode (useStdin().isRawModeSupported is stdin.isTTY) and draws on a TTY. */
function isInteractive (t: { stdin: { isTTY?: boolean }, stdout: { isTTY?: boolean } }): boolean {
  return t.stdin.isTTY === true && t.stdout.isTTY === true
}

/** Runs the chat to its end. Throws a DmessError (one line for the user) when it cannot start or ends badly. */
export async function runChat (opts: RunChatOptions): Promise<void> {
  const t: Terminal = { stdin: opts.stdin ?? process.stdin, stdout: opts.stdout ?? process.stdout }
  let alt = false
  let releaseRawMode: (() => void) | undefined
  // raw mode before the first byte is drawn, kept through the picker and the chat (holdRawMode)
  // and what was typed before that, while the terminal was cooked, read as the keys meant (takeTypeAhead)
  const enter = async (): Promise<void> => {
    if (releaseRawMode === undefined) {
      releaseRawMode = holdRawMode(t.stdin)
      await takeTypeAhead(t.stdin)
    }
    t.stdout.write(alt ? CLEAR : ENTER_ALT)
    alt = true
  }
  try {
    if (!isInteractive(t)) throw errors.NOT_A_TERMINAL(NEEDS_TERMINAL)
    let query = opts.query
    if (query === undefined) {
      const items = await opts.backend.conversations()
      if (items.length === 0) throw errors.CONTACT_NOT_FOUND('no conversations or contacts yet; add a contact with `dmess contacts add <invite>`')
      await enter()
      const picked = await pick(items, t)
      if (picked === null) return
      query = picked
    }
    await converse(opts.backend, query, t, opts, enter)
  } finally {
    if (alt) t.stdout.write(LEAVE_ALT)
    releaseRawMode?.()
    opts.backend.close()
  }
}
