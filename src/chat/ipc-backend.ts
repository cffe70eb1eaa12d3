// The ChatBackend over the daemon's socket: the messaging methods and events of
// proto-spec/ipc.md §4–§5 and proto-spec/messaging.md §9. Contacts are addressed by full
// fingerprint once resolved, so a rename while the chat is open changes nothing.
import { homedir } from 'node:os'
import { resolve } from 'node:path'
import { errors } from '../errors.js'
import type { IpcClient } from '../daemon/ipc-client.js'
import type { DaemonEvent } from '../runtime/events.js'
import type { ChatBackend, ChatContact, ChatEvent, ChatMessage, ChatPeer, ChatRequest, ChatTransfer, ConversationSummary, MessageStatus, Presence, SearchMatch } from './types.js'

const STATUSES: readonly MessageStatus[] = ['sending', 'sent', 'delivered', 'read', 'received']
const PRESENCES: readonly Presence[] = ['offline', 'connecting', 'online', 'away']

export class IpcChatBackend implements ChatBackend {
  constructor (private readonly client: IpcClient) {}

  async resolve (query: string): Promise<ChatContact> {
    const r = await this.client.call('messages.history', { contact: query, limit: 1 })
    if (r.contact === null) throw errors.CONTACT_NOT_FOUND(`${r.peer} is not a contact; add them with \`dmess contacts add\` to chat`)
    const c = r.contact
    const lastSeen = c.lastSeen === null ? null : Date.parse(c.lastSeen)
    return { fingerprint: c.fingerprint, name: c.name, verified: c.verified, lastSeen: Number.isFinite(lastSeen) ? lastSeen : null }
  }

  async history (peer: string, opts: { limit: number, before?: number }): Promise<ChatMessage[]> {
    const params = opts.before === undefined ? { contact: peer, limit: opts.limit } : { contact: peer, limit: opts.limit, before: opts.before }
    return (await this.client.call('messages.history', params)).messages
  }

  async presence (peer: string): Promise<Presence> {
    const peers = await this.client.call('peers.list', {})
    return peers.find(p => p.fingerprint === peer)?.state ?? 'offline'
  }

  async conversations (): Promise<ConversationSummary[]> {
    const [convs, contacts] = await Promise.all([this.client.call('messages.conversations', {}), this.client.call('contacts.list', {})])
    const out: ConversationSummary[] = convs.map(c => ({ peer: { fingerprint: c.peer, name: c.name }, unread: c.unread, last: c.lastMessage }))
    const seen = new Set(convs.map(c => c.peer))
    const quiet = contacts.filter(c => !seen.has(c.fingerprint)).sort((a, b) => (a.name ?? a.fingerprint).localeCompare(b.name ?? b.fingerprint))
    for (const c of quiet) out.push({ peer: { fingerprint: c.fingerprint, name: c.name }, unread: 0 })
    return out
  }

  async send (peer: string, text: string): Promise<{ id: string, status: MessageStatus, timestamp: number }> {
    return await this.client.call('messages.send', { contact: peer, text })
  }

  async markRead (peer: string): Promise<void> {
    await this.client.call('messages.read', { contact: peer })
  }

  async typing (peer: string, typing: boolean): Promise<void> {
    await this.client.call('messages.typing', { contact: peer, typing })
  }

  async requests (): Promise<ChatRequest[]> {
    return (await this.client.call('requests.list', {})).map(r => toRequest(r)).filter((r): r is ChatRequest => r !== null)
  }

  async acceptRequest (fingerprint: string): Promise<ChatPeer> {
    const { contact } = await this.client.call('requests.accept', { fingerprint })
    return { fingerprint: contact.fingerprint, name: contact.name }
  }

  async declineRequest (fingerprint: string): Promise<void> {
    await this.client.call('requests.decline', { fingerprint })
  }

  async search (peer: string, query: string, limit: number): Promise<SearchMatch[]> {
    return await this.client.call('messages.search', { query, contact: peer, limit })
  }

  async sendFile (peer: string, path: string): Promise<ChatTransfer> {
    // the daemon takes absolute paths (ipc.md §13): the path is the user's, relative to where the chat runs
    const abs = resolve(path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path)
    const [t] = await this.client.call('files.send', { contact: peer, paths: [abs] })
    if (t === undefined) throw errors.IPC('files.send offered nothing')
    return t
  }

  async subscribe (listener: (ev: ChatEvent) => void): Promise<void> {
    await this.client.subscribe(['message', 'receipt', 'typing', 'presence', 'request', 'contact', 'file'], ev => {
      const chat = toChatEvent(ev)
      if (chat !== null) listener(chat)
    })
  }

  onClose (listener: (err: Error) => void): void {
    this.client.onClose(listener)
  }

  close (): void {
    this.client.close()
  }
}

// ---- event translation: anything not in the documented shape is skipped ----

const isStr = (v: unknown): v is string => typeof v === 'string'
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

function toMessage (v: unknown): ChatMessage | null {
  if (typeof v !== 'object' || v === null) return null
  const m = v as Record<string, unknown>
  if (!isStr(m.id) || !isStr(m.text) || !isNum(m.timestamp) || !isNum(m.seq)) return null
  if (m.direction !== 'in' && m.direction !== 'out') return null
  if (!STATUSES.includes(m.status as MessageStatus)) return null
  return { id: m.id, direction: m.direction, text: m.text, timestamp: m.timestamp, seq: m.seq, status: m.status as MessageStatus }
}

function toRequest (v: unknown): ChatRequest | null {
  if (typeof v !== 'object' || v === null) return null
  const r = v as Record<string, unknown>
  if (!isStr(r.fingerprint) || !isNum(r.timestamp)) return null
  const out: ChatRequest = { fingerprint: r.fingerprint, timestamp: r.timestamp }
  if (isStr(r.name)) out.name = r.name
  if (isStr(r.text)) out.text = r.text
  return out
}

function toTransfer (v: unknown): ChatTransfer | null {
  if (typeof v !== 'object' || v === null) return null
  const t = v as Record<string, unknown>
  if (!isStr(t.id) || !isStr(t.peer) || !isStr(t.name) || !isStr(t.state)) return null
  if (t.direction !== 'in' && t.direction !== 'out') return null
  return { id: t.id, direction: t.direction, peer: t.peer, name: t.name, state: t.state, reason: isStr(t.reason) ? t.reason : null }
}

const REQUEST_ACTIONS: Record<string, 'received' | 'updated' | 'gone'> = {
  received: 'received', updated: 'updated', accepted: 'gone', declined: 'gone', evicted: 'gone', expired: 'gone'
}

/** A daemon event notification as a ChatEvent, or null when it is of no use to the chat. */
export function toChatEvent (ev: DaemonEvent): ChatEvent | null {
  if (ev.type === 'request') {
    const request = toRequest(ev.request)
    const action = isStr(ev.action) ? REQUEST_ACTIONS[ev.action] : undefined
    return request === null || action === undefined ? null : { type: 'request', action, request }
  }
  if (ev.type === 'file') {
    const transfer = toTransfer(ev.transfer)
    return transfer === null ? null : { type: 'file', peer: transfer.peer, transfer }
  }
  if (ev.type === 'contact') {
    const c = ev.contact as Record<string, unknown> | null | undefined
    if (typeof c !== 'object' || c === null || !isStr(c.fingerprint) || typeof c.verified !== 'boolean') return null
    return { type: 'contact', peer: c.fingerprint, name: isStr(c.name) ? c.name : null, verified: c.verified, ...(ev.action === 'session-reset' ? { reset: true as const } : {}) }
  }
  const peer = ev.peer
  if (!isStr(peer)) return null
  switch (ev.type) {
    case 'message': {
      const message = toMessage(ev.message)
      return message === null ? null : { type: 'message', peer, message }
    }
    case 'receipt': {
      if ((ev.direction !== 'in' && ev.direction !== 'out') || !STATUSES.includes(ev.status as MessageStatus)) return null
      if (!Array.isArray(ev.ids) || !ev.ids.every(isStr)) return null
      return { type: 'receipt', peer, direction: ev.direction, status: ev.status as MessageStatus, ids: ev.ids }
    }
    case 'typing': return typeof ev.typing === 'boolean' ? { type: 'typing', peer, typing: ev.typing } : null
    case 'presence': return PRESENCES.includes(ev.state as Presence) ? { type: 'presence', peer, state: ev.state as Presence, ...(isStr(ev.name) ? { name: ev.name } : {}) } : null
    default: return null
  }
}
