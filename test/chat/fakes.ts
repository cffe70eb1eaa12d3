// A ChatBackend held in memory (what the daemon would do, minus the network) and terminal
// streams for ink: a TTY-like stdin that keys are written to, and a stdout that keeps frames.
import { EventEmitter } from 'node:events'
import { PassThrough } from 'node:stream'
import { errors } from '../../src/errors.js'
import type { ChatBackend, ChatContact, ChatEvent, ChatMessage, ChatPeer, ChatRequest, ChatTransfer, ConversationSummary, Presence, SearchMatch, SendResult } from '../../src/chat/types.js'

export class FakeBackend implements ChatBackend {
  readonly calls: Array<{ method: string, args: unknown[] }> = []
  messages: ChatMessage[] = []
  presenceState: Presence = 'online'
  convs: ConversationSummary[] = []
  /** other contacts /c can open */
  others: ChatPeer[] = []
  pending: ChatRequest[] = []
  failSend: string | null = null
  closed = false
  #listener: ((ev: ChatEvent) => void) | null = null
  #closeListeners: Array<(err: Error) => void> = []
  #seq = 0

  constructor (readonly peer: ChatPeer, readonly now: () => number = Date.now) {}

  #log (method: string, ...args: unknown[]): void { this.calls.push({ method, args }) }
  callsOf (method: string): unknown[][] { return this.calls.filter(c => c.method === method).map(c => c.args) }

  async resolve (query: string): Promise<ChatContact> {
    this.#log('resolve', query)
    const hit = [this.peer, ...this.others].find(p => query === p.name || p.fingerprint.startsWith(query))
    if (hit === undefined) throw errors.CONTACT_NOT_FOUND(`no contact matches "${query}" (by name or fingerprint prefix)`)
    return { verified: false, lastSeen: null, ...hit }
  }

  async requests (): Promise<ChatRequest[]> { this.#log('requests'); return this.pending }

  async acceptRequest (fingerprint: string): Promise<ChatPeer> {
    this.#log('acceptRequest', fingerprint)
    const r = this.pending.find(x => x.fingerprint === fingerprint)
    if (r === undefined) throw errors.REQUEST_NOT_FOUND(`no pending request from ${fingerprint}`)
    this.pending = this.pending.filter(x => x !== r)
    const peer = { fingerprint, name: r.name ?? null }
    this.others.push(peer)
    this.emit({ type: 'request', action: 'gone', request: r })
    return peer
  }

  async declineRequest (fingerprint: string): Promise<void> {
    this.#log('declineRequest', fingerprint)
    const r = this.pending.find(x => x.fingerprint === fingerprint)
    if (r === undefined) throw errors.REQUEST_NOT_FOUND(`no pending request from ${fingerprint}`)
    this.pending = this.pending.filter(x => x !== r)
    this.emit({ type: 'request', action: 'gone', request: r })
  }

  async search (peer: string, query: string, limit: number): Promise<SearchMatch[]> {
    this.#log('search', peer, query)
    const hits = this.messages.filter(m => m.text.includes(query)).reverse().slice(0, limit)
    return hits.map(m => ({ ...m, peer, name: this.peer.name }))
  }

  /** Like the daemon: a path under /missing is refused as the daemon refuses a file it cannot read; else offered, with its event. */
  async sendFile (peer: string, path: string): Promise<ChatTransfer> {
    this.#log('sendFile', peer, path)
    if (path.startsWith('/missing')) throw errors.BAD_ARGUMENT(`cannot read ${path}: no such file`)
    const t: ChatTransfer = { id: `${++this.#seq}`.padStart(32, '0'), direction: 'out', peer, name: path.split('/').at(-1) ?? path, state: 'offered', reason: null }
    this.emit({ type: 'file', peer, transfer: t })
    return t
  }

  async history (peer: string, opts: { limit: number, before?: number }): Promise<ChatMessage[]> {
    this.#log('history', peer, opts)
    const before = opts.before ?? Infinity
    return this.messages.filter(m => m.seq < before).slice(-opts.limit)
  }

  async presence (peer: string): Promise<Presence> { this.#log('presence', peer); return this.presenceState }
  async conversations (): Promise<ConversationSummary[]> { this.#log('conversations'); return this.convs }

  /** Like the daemon: stores the message, emits it, answers with its id. */
  async send (peer: string, text: string): Promise<SendResult> {
    this.#log('send', peer, text)
    if (this.failSend !== null) throw errors.BAD_ARGUMENT(this.failSend)
    const m: ChatMessage = { id: `out${++this.#seq}`, direction: 'out', text, timestamp: this.now(), status: 'sending', seq: this.nextSeq() }
    this.messages.push(m)
    this.emit({ type: 'message', peer, message: m })
    return { id: m.id, status: m.status, timestamp: m.timestamp }
  }

  async markRead (peer: string): Promise<void> {
    this.#log('markRead', peer)
    const ids = this.messages.filter(m => m.direction === 'in' && m.status === 'received').map(m => m.id)
    this.messages = this.messages.map(m => ids.includes(m.id) ? { ...m, status: 'read' } : m)
    if (ids.length > 0) this.emit({ type: 'receipt', peer, direction: 'in', status: 'read', ids })
  }

  async typing (peer: string, typing: boolean): Promise<void> { this.#log('typing', peer, typing) }

  async subscribe (listener: (ev: ChatEvent) => void): Promise<void> { this.#log('subscribe'); this.#listener = listener }
  onClose (listener: (err: Error) => void): void { this.#closeListeners.push(listener) }
  close (): void { this.closed = true }

  nextSeq (): number { return (this.messages.at(-1)?.seq ?? 0) + 1 }
  emit (ev: ChatEvent): void { this.#listener?.(ev) }
  /** The peer writes to us. */
  receive (text: string): ChatMessage {
    const m: ChatMessage = { id: `in${++this.#seq}`, direction: 'in', text, timestamp: this.now(), status: 'received', seq: this.nextSeq() }
    this.messages.push(m)
    this.emit({ type: 'message', peer: this.peer.fingerprint, message: m })
    return m
  }

  dropConnection (): void { for (const l of this.#closeListeners) l(errors.IPC('the daemon closed the connection')) }
}

/** What ink needs of a terminal's stdin; keys written to it reach useInput. */
export function fakeStdin (isTTY = true): NodeJS.ReadStream {
  const s = new PassThrough() as unknown as NodeJS.ReadStream & { setRawMode: (b: boolean) => void }
  Object.assign(s, { isTTY, setRawMode: () => s, ref: () => s, unref: () => s })
  return s
}

/** A terminal's stdout that keeps everything written; with ink's `debug` each write is one whole frame. */
export class FakeStdout extends EventEmitter {
  readonly writes: string[] = []
  isTTY = true
  constructor (public columns = 80, public rows = 24) { super() }
  write (chunk: string): boolean { this.writes.push(chunk); return true }
  get text (): string { return this.writes.join('') }
  get stream (): NodeJS.WriteStream { return this as unknown as NodeJS.WriteStream }
}

export async function until (cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
