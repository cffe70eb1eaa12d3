// What the terminal chat needs from the daemon, as a typed interface: the UI and its state model
// depend on this only, so they are tested without a daemon, and the IPC-backed implementation
// (ipc-backend.ts) is the one place that knows method names (proto-spec/ipc.md §4, messaging.md §9).

/** A message as the chat shows it: the `MessageJson` shape of the messaging IPC methods and events. */
export interface ChatMessage {
  id: string
  direction: 'in' | 'out'
  text: string
  /** the sender's clock, ms since the epoch (shown, never used to order) */
  timestamp: number
  /** outbound: sending → sent → delivered → read; inbound: received, or read once shown */
  status: MessageStatus
  /** local arrival order in the conversation: the order on screen */
  seq: number
}

export type MessageStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'received'

/** A contact's presence as the connection manager reports it (messaging.md §5). */
export type Presence = 'offline' | 'connecting' | 'online' | 'away'

export interface ChatPeer {
  fingerprint: string
  name: string | null
}

/** One row of `dmess chat` without an argument. */
export interface ConversationSummary {
  peer: ChatPeer
  unread: number
  /** the newest message, absent for a contact with no messages yet */
  last?: ChatMessage
}

/** Live events about one peer, translated from the daemon's event notifications (ipc.md §5). */
export type ChatEvent =
  | { type: 'message', peer: string, message: ChatMessage }
  /** out: our messages reached `status`; in: the peer's messages were marked read (by us, anywhere) */
  | { type: 'receipt', peer: string, direction: 'in' | 'out', status: MessageStatus, ids: string[] }
  | { type: 'typing', peer: string, typing: boolean }
  | { type: 'presence', peer: string, state: Presence }

export interface SendResult { id: string, status: MessageStatus, timestamp: number }

export interface ChatBackend {
  /** A contact by fingerprint, unique fingerprint prefix or name (CONTACT_NOT_FOUND / _AMBIGUOUS otherwise). */
  resolve: (query: string) => Promise<ChatPeer>
  /** Up to `limit` messages, oldest first; with `before`, only those with seq < before. */
  history: (peer: string, opts: { limit: number, before?: number }) => Promise<ChatMessage[]>
  presence: (peer: string) => Promise<Presence>
  /** Conversations (most recent first), then contacts without messages. */
  conversations: () => Promise<ConversationSummary[]>
  send: (peer: string, text: string) => Promise<SendResult>
  /** Marks the conversation read: the daemon sends READ_RECEIPTs and emits a receipt event. */
  markRead: (peer: string) => Promise<void>
  typing: (peer: string, typing: boolean) => Promise<void>
  /** Starts the event stream; resolves once the daemon confirms the subscription. */
  subscribe: (listener: (ev: ChatEvent) => void) => Promise<void>
  /** Called once if the connection to the daemon ends while the chat runs. */
  onClose: (listener: (err: Error) => void) => void
  close: () => void
}
