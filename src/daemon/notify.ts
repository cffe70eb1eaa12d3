// Desktop notifications for messages, and for contact requests from strangers, that arrive while
// no chat is open (config "notify"). Each is
// one `notify-send` (libnotify's client of the org.freedesktop.Notifications D-Bus service, the
// Desktop Notifications Specification): a program every Linux desktop has, run without a shell.
// Off by default; "sender" says who wrote, "body" also shows the text (it then sits in the
// desktop's notification history, outside dmess's sealed store: the user must ask for it).
// "No chat open" is "no IPC client subscribed to message events": the chat is the one that does
// (src/chat/ipc-backend.ts), and it shows the message and the request itself. A request is
// announced once, when it first comes (proto-spec/messaging.md §3), not for each message held with it.
import { execFile } from 'node:child_process'
import type { Logger } from 'pino'
import type { Component } from '../runtime/component.js'
import type { DaemonEvent, EventBus } from '../runtime/events.js'
import type { NotifyMode } from '../config/schema.js'


/** A body longer than this is cut (a notification is a glance, and a 64 KiB message is not one). */
export const NOTIFY_BODY_CHARS = 200
/** Notifications waiting for the one notify-send that runs at a time; more are dropped and counted. */
export const NOTIFY_QUEUE = 8
const NOTIFY_TIMEOUT_MS = 5000

export interface NotifierOptions {
  mode: NotifyMode
  events: EventBus
  /** true while a client shows messages as they come (the chat) */
  watched: () => boolean
  /** the name the user knows the contact by, if any */
  contactName: (fingerprint: string) => Promise<string | undefined>
  log: Logger
  /** runs notify-send with these arguments (tests and the default: execFile from PATH) */
  run?: (args: string[]) => Promise<void>
}

/**
 * notify-send's arguments for a message. Servers may read the body as markup (the spec's
 * "body-markup"), so &, < and > are escaped; `--` keeps a name or text starting with `-` from
 * being read as an option; control characters become spaces.
 */
export function notifyArgs (mode: Exclude<NotifyMode, 'off'>, sender: string, text: string): string[] {
  const who = clean(sender)
  const summary = mode === 'body' ? `dmess: ${who}` : 'dmess'
  const body = mode === 'body' ? cut(clean(text)) : `New message from ${who}`
  return ['--app-name=dmess', '--category=im.received', '--', summary, markupEscape(body)]
}

/**
 * notify-send's arguments for a stranger's contact request. The name is one the stranger chose
 * (messaging.md §3: anyone can call themselves anything), so it is shown quoted after the
 * fingerprint the session proved, never as who wrote.
 */
export function requestNotifyArgs (mode: Exclude<NotifyMode, 'off'>, fingerprint: string, name: string | undefined, text: string | undefined): string[] {
  const who = `${clean(fingerprint).slice(0, 12)}…` + (name === undefined || clean(name) === '' ? '' : ` ("${cut(clean(name))}")`)
  const summary = mode === 'body' ? `dmess: contact request from ${who}` : 'dmess'
  // the request comes before the messages held with it (messaging.md §4.2): text is a greeting, if any
  const body = mode === 'body' ? (text === undefined || clean(text) === '' ? 'wants to add you as a contact' : cut(clean(text))) : `Contact request from ${who}`
  return ['--app-name=dmess', '--category=im.received', '--', summary, markupEscape(body)]
}

export class Notifier implements Component {
  readonly name = 'notify'
  readonly counters = { shown: 0, dropped: 0, failed: 0 }
  private unlisten: (() => void) | undefined
  private queue: string[][] = []
  private running = false
  private missing = false

  constructor (private readonly opts: NotifierOptions) {}

  async start (): Promise<void> {
    if (this.opts.mode === 'off') return
    this.unlisten = this.opts.events.on(ev => this.onEvent(ev))
  }

  async stop (): Promise<void> {
    this.unlisten?.()
    this.queue = []
  }

  private onEvent (ev: DaemonEvent): void {
    const mode = this.opts.mode
    if (mode === 'off' || this.missing) return
    if (ev.type === 'request') {
      const r = ev.request as { fingerprint?: unknown, name?: unknown, text?: unknown } | undefined
      if (ev.action !== 'received' || typeof r?.fingerprint !== 'string' || this.opts.watched()) return
      this.enqueue(requestNotifyArgs(mode, r.fingerprint, typeof r.name === 'string' ? r.name : undefined, typeof r.text === 'string' ? r.text : undefined))
      return
    }
    if (ev.type !== 'message') return
    const m = ev.message as { direction?: string, text?: string } | undefined
    if (m?.direction !== 'in' || typeof ev.peer !== 'string') return
    if (this.opts.watched()) return // decided now, as the message lands: the chat shows it
    const peer = ev.peer
    void this.opts.contactName(peer).catch(() => undefined).then(name => {
      this.enqueue(notifyArgs(mode, name ?? `${peer.slice(0, 12)}…`, m.text ?? ''))
    })
  }

  private enqueue (args: string[]): void {
    if (this.queue.length >= NOTIFY_QUEUE) { this.counters.dropped++; return }
    this.queue.push(args)
    void this.drain()
  }

  private async drain (): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (let args = this.queue.shift(); args !== undefined && !this.missing; args = this.queue.shift()) {
        try {
          await (this.opts.run ?? runNotifySend)(args)
          this.counters.shown++
        } catch (err) {
          this.counters.failed++
          if ((err as { code?: unknown }).code === 'ENOENT') {
            this.missing = true
            this.opts.log.warn('notify-send is not on PATH: no desktop notifications (install libnotify-bin, or set notify off)')
          } else {
            this.opts.log.debug({ err: (err as Error).message }, 'notify-send failed')
          }
        }
      }
    } finally {
      this.running = false
    }
  }
}

async function runNotifySend (args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile('notify-send', args, { timeout: NOTIFY_TIMEOUT_MS, windowsHide: true }, err => { if (err) reject(err); else resolve() })
  })
}

function clean (text: string): string {
  // C0, DEL and C1 controls, and the bidirectional overrides that could reorder the line
  // eslint-disable-next-line no-control-regex -- matching them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g, ' ').trim()
}

function cut (text: string): string {
  const chars = [...text]
  return chars.length <= NOTIFY_BODY_CHARS ? text : chars.slice(0, NOTIFY_BODY_CHARS - 1).join('') + '…'
}

function markupEscape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
