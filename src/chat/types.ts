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

/** The open conversation's contact: a peer with what the header shows about it. */
export interface ChatContact extends ChatPeer {
  /** the user compared safety numbers (`dmess contacts verify --set`) */
  verified: boolean
  /** when the daemon last had a link to them, ms since the epoch; null: never */
  lastSeen: number | null
}

/** A stranger's pending contact request (`requests.list`, messaging.md §3.2). */
export interface ChatRequest {
  fingerprint: string
  /** the name the stranger gave: their claim, not ours */
  name?: string
  /** the greeting, else the first held message */
  text?: string
  timestamp: number
}

/** A search match (`messages.search`): a message and the conversation it is in. */
export interface SearchMatch extends ChatMessage { peer: string, name: string | null }

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
  | { type: 'presence', peer: string, state: Presence, name?: string }
  /** a stranger's request arrived, changed, or left the book (answered, evicted, expired) */
  | { type: 'request', action: 'received' | 'updated' | 'gone', request: ChatRequest }
  /**
   * a contact was renamed, verified or unverified; `reset`: one side of the encrypted session
   * lost its state and a new session started (proto-spec/envelope.md §8.6)
   */
  | { type: 'contact', peer: string, name: string | null, verified: boolean, reset?: true }
  /** a file transfer with `peer` was offered or changed state (not on every chunk) */
  | { type: 'file', peer: string, transfer: ChatTransfer }

/** A file transfer, as much of `TransferJson` (ipc.md §13, proto-spec/files.md) as the chat shows. */
export interface ChatTransfer {
  id: string
  direction: 'in' | 'out'
  peer: string
  name: string
  state: string
  reason: string | null
}

export interface SendResult { id: string, status: MessageStatus, timestamp: number }

export interface ChatBackend {
  /** A contact by fingerprint, unique fingerprint prefix or name (CONTACT_NOT_FOUND / _AMBIGUOUS otherwise). */
  resolve: (query: string) => Promise<ChatContact>
  /** Up to `limit` messages, oldest first; with `before`, only those with seq < before. */
  history: (peer: string, opts: { limit: number, before?: number }) => Promise<ChatMessage[]>
  presence: (peer: string) => Promise<Presence>
  /** Conversations (most recent first), then contacts without messages. */
  conversations: () => Promise<ConversationSummary[]>
  send: (peer: string, text: string) => Promise<SendResult>
  /** Marks the conversation read: the daemon sends READ_RECEIPTs and emits a receipt event. */
  markRead: (peer: string) => Promise<void>
  typing: (peer: string, typing: boolean) => Promise<void>
  /** Pending contact requests, oldest first. */
  requests: () => Promise<ChatRequest[]>
  /** Makes the requester a contact (REQUEST_NOT_FOUND if none pending); resolves to the new contact. */
  acceptRequest: (fingerprint: string) => Promise<ChatPeer>
  declineRequest: (fingerprint: string) => Promise<void>
  /** Messages of one conversation containing `query`, newest first. */
  search: (peer: string, query: string, limit: number) => Promise<SearchMatch[]>
  /** Offers a file (a path as the user typed it) to the contact; resolves once it is hashed and offered. */
  sendFile: (peer: string, path: string) => Promise<ChatTransfer>
  /** Starts the event stream; resolves once the daemon confirms the subscription. */
  subscribe: (listener: (ev: ChatEvent) => void) => Promise<void>
  /** Called once if the connection to the daemon ends while the chat runs. */
  onClose: (listener: (err: Error) => void) => void
  close: () => void
}
