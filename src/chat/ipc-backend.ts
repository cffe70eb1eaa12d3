// The ChatBackend over the daemon's socket: the messaging methods and events of
// proto-spec/ipc.md §4–§5 and proto-spec/messaging.md §9. Contacts are addressed by full
// fingerprint once resolved, so a rename while the chat is open changes nothing.
import { errors } from '../errors.js'
import type { IpcClient } from '../daemon/ipc-client.js'
import type { DaemonEvent } from '../runtime/events.js'
import type { ChatBackend, ChatEvent, ChatMessage, ChatPeer, ConversationSummary, MessageStatus, Presence } from './types.js'

const STATUSES: readonly MessageStatus[] = ['sending', 'sent', 'delivered', 'read', 'received']
const PRESENCES: readonly Presence[] = ['offline', 'connecting', 'online', 'away']

export class IpcChatBackend implements ChatBackend {
  constructor (private readonly client: IpcClient) {}

  async resolve (query: string): Promise<ChatPeer> {
    const r = await this.client.call('messages.history', { contact: query, limit: 1 })
    if (r.contact === null) throw errors.CONTACT_NOT_FOUND(`${r.peer} is not a contact; add them with \`dmess contacts add\` to chat`)
    return { fingerprint: r.contact.fingerprint, name: r.contact.name }
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

  async subscribe (listener: (ev: ChatEvent) => void): Promise<void> {
    await this.client.subscribe(['message', 'receipt', 'typing', 'presence'], ev => {
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

/** A daemon event notification as a ChatEvent, or null when it is of no use to the chat. */
export function toChatEvent (ev: DaemonEvent): ChatEvent | null {
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
    case 'presence': return PRESENCES.includes(ev.state as Presence) ? { type: 'presence', peer, state: ev.state as Presence } : null
    default: return null
  }
}
