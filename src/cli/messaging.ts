// Glue for the messaging commands (commands/send.ts, history.ts, …): calling a running daemon,
// and the text forms of messages, peers, requests and contacts. The JSON forms are
// src/messaging/json.ts's. Every field a peer chose (text, names) goes through terminalSafe
// (src/platform/terminal-text.ts): a stranger's request must not drive the user's terminal.
import type { HomePaths } from '../config/home.js'
import { requireDaemon } from './daemon-client.js'
import type { Call } from '../daemon/rpc-methods.js'
import type { MessageJson, PeerJson, RequestJson } from '../messaging/json.js'
import type { SearchHit } from '../daemon/rpc-messaging.js'
import type { ContactJson } from '../app/contact-json.js'
import { terminalSafe } from '../platform/terminal-text.js'

/** Runs `fn` against the running daemon; without one, DAEMON_NOT_RUNNING (one line, exit 1). */
export async function withDaemon<T> (paths: HomePaths, fn: (call: Call, timeout: (ms: number) => Call) => Promise<T>): Promise<T> {
  const client = await requireDaemon(paths)
  try {
    const withTimeout = (ms: number): Call => async (method, params) => await client.call(method, params, ms)
    return await fn(client.caller, withTimeout)
  } finally {
    client.close()
  }
}

const STATUS_MARK: Record<string, string> = { sending: '…', sent: '✓', delivered: '✓✓', read: '✓✓ read', received: '' }

export function time (ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}

/** `[2026-01-02 10:00:00] > text  ✓✓` — the sender's clock, as sent; order is arrival order. */
export function messageLine (m: MessageJson, peerLabel: string): string {
  const who = m.direction === 'out' ? 'you' : terminalSafe(peerLabel)
  const mark = m.direction === 'out' ? `  ${STATUS_MARK[m.status] ?? m.status}` : ''
  return `[${time(m.timestamp)}] ${who}: ${terminalSafe(m.text)}${mark}`
}

/** `[2026-01-02 10:00:00] bob → you: text`, for `dmess search`. */
export function searchLine (h: SearchHit): string {
  const who = terminalSafe(h.name ?? h.peer.slice(0, 12))
  return `[${time(h.timestamp)}] ${h.direction === 'out' ? 'you → ' : ''}${who}${h.direction === 'in' ? ' → you' : ''}: ${terminalSafe(h.text)}`
}

/** How long ago `at` was, as a person says it: "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago". */
export function ago (at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000))
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  const d = Math.floor(s / 86_400)
  return `${d} day${d === 1 ? '' : 's'} ago`
}

export function peerLine (p: PeerJson, now = Date.now()): string {
  const who = p.name !== null ? `${terminalSafe(p.name)} (${(p.fingerprint ?? '').slice(0, 12)}…)` : (p.fingerprint ?? '(fingerprint not yet known)')
  const rtt = p.rtt === null ? '' : `  ${p.rtt} ms`
  const via = p.path?.via === 'relayed' ? `  via relay ${terminalSafe(p.path.relay)}` : ''
  const seen = p.state === 'offline' && p.lastSeen !== null ? `  last seen ${ago(p.lastSeen, now)}` : ''
  return `${p.state.padEnd(10)} ${terminalSafe(p.address ?? '-').padEnd(22)} ${p.source.padEnd(7)} ${who}${rtt}${via}${seen}`
}

export function requestLine (r: RequestJson): string {
  const name = r.name === undefined ? '' : ` "${terminalSafe(r.name)}"`
  // cut before escaping, so an escape is never cut in half
  const text = r.text === undefined ? '' : `: ${terminalSafe(r.text.length > 60 ? r.text.slice(0, 57) : r.text)}${r.text.length > 60 ? '...' : ''}`
  return `${r.fingerprint}${name} (${time(r.timestamp)}, ${r.held} held)${text}`
}

/** `✓ bob                  <fingerprint>`, for `dmess contacts list`. */
export function contactLine (c: ContactJson): string {
  return `${c.verified ? '✓' : ' '} ${(c.name === null ? '-' : terminalSafe(c.name)).padEnd(20)} ${c.fingerprint}${c.keys ? '' : '  (keys not yet known)'}`
}

/** The documented JSON shapes of the commands (README "JSON output"): exactly these fields. */
export function historyEntry (m: MessageJson): Pick<MessageJson, 'id' | 'direction' | 'text' | 'timestamp' | 'status'> {
  return { id: m.id, direction: m.direction, text: m.text, timestamp: m.timestamp, status: m.status }
}

export function peerEntry (p: PeerJson): Pick<PeerJson, 'fingerprint' | 'address' | 'source' | 'state' | 'rtt' | 'path' | 'lastSeen'> {
  return { fingerprint: p.fingerprint, address: p.address, source: p.source, state: p.state, rtt: p.rtt, path: p.path ?? null, lastSeen: p.lastSeen ?? null }
}

/** A contact in `--json` output (README "JSON output"): its times as ms since the epoch, as every other time there. */
export function contactEntry (c: ContactJson): Omit<ContactJson, 'addedAt' | 'lastSeen'> & { addedAt: number, lastSeen: number | null } {
  return { ...c, addedAt: Date.parse(c.addedAt), lastSeen: c.lastSeen === null ? null : Date.parse(c.lastSeen) }
}

export function requestEntry (r: RequestJson): Omit<RequestJson, 'held'> {
  const { held: _held, ...rest } = r
  return rest
}
