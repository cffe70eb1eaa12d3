// What happens outside the open conversation while it is on screen: messages in other
// conversations (a notice, the terminal's bell, an unread count in the header) and strangers'
// contact requests (messaging.md §3.2: a notice, then /requests, /accept, /decline). Pure, like
// state.ts, whose reducer hands it the events that are not about the open conversation.
import { FINGERPRINT_PREFIX, peerLabel } from './layout.js'
import { notice, type ChatState, type Effect } from './model.js'
import type { ChatEvent, ChatRequest } from './types.js'
import { truncateCells } from './width.js'
import { terminalSafe } from '../platform/terminal-text.js'

/** Cells of a message or greeting quoted in a notice. */
const PREVIEW_CELLS = 40

export function preview (text: string, cells = PREVIEW_CELLS): string {
  const one = terminalSafe(text.replace(/\s*\n\s*/g, ' '))
  const cut = truncateCells(one, cells)
  return cut.length < one.length ? cut + '…' : cut
}

/** A contact's label by fingerprint: its name, else the start of the fingerprint. */
export function labelOf (s: Pick<ChatState, 'names'>, fp: string): string {
  const name = s.names[fp]
  return name === undefined || name === null ? fp.slice(0, FINGERPRINT_PREFIX) + '…' : peerLabel({ fingerprint: fp, name })
}

/** A requester as the user sees it: the name it gave (quoted: its claim) and its fingerprint's start. */
export function requestLabel (r: ChatRequest): string {
  const fp = r.fingerprint.slice(0, FINGERPRINT_PREFIX) + '…'
  return r.name === undefined ? fp : `"${peerLabel({ fingerprint: r.fingerprint, name: r.name })}" (${fp})`
}

/** An event about another peer, or about the request book. */
export function onElsewhere (s: ChatState, ev: ChatEvent, now: number, effects: Effect[]): ChatState {
  switch (ev.type) {
    case 'message': {
      if (ev.message.direction !== 'in' || ev.message.status !== 'received') return s
      effects.push({ type: 'bell' })
      const unread = { ...s.unread, [ev.peer]: (s.unread[ev.peer] ?? 0) + 1 }
      // what /c takes: the whole name (a label may be cut short), else the fingerprint's start
      const name = s.names[ev.peer]
      const handle = name === undefined || name === null ? ev.peer.slice(0, FINGERPRINT_PREFIX) : terminalSafe(name)
      return { ...s, unread, notice: notice(`${labelOf(s, ev.peer)}: ${preview(ev.message.text)}  (/c ${handle} to switch)`, 'info', now) }
    }
    case 'receipt': {
      // their messages were marked read elsewhere (another chat, `dmess read`)
      if (ev.direction !== 'in' || s.unread[ev.peer] === undefined) return s
      return { ...s, unread: without(s.unread, ev.peer) }
    }
    case 'presence':
      return ev.name === undefined || s.names[ev.peer] === ev.name ? s : { ...s, names: { ...s.names, [ev.peer]: ev.name } }
    case 'contact':
      return s.names[ev.peer] === ev.name ? s : { ...s, names: { ...s.names, [ev.peer]: ev.name } }
    case 'request': return onRequest(s, ev.action, ev.request, now, effects)
    default: return s
  }
}

function onRequest (s: ChatState, action: 'received' | 'updated' | 'gone', r: ChatRequest, now: number, effects: Effect[]): ChatState {
  const rest = s.requests.filter(x => x.fingerprint !== r.fingerprint)
  if (action === 'gone') return rest.length === s.requests.length ? s : { ...s, requests: rest }
  const i = s.requests.findIndex(x => x.fingerprint === r.fingerprint)
  const requests = [...s.requests]
  if (i >= 0) requests[i] = r
  else requests.push(r)
  // a request may open before its first words arrive (an update): those words are news too
  const news = i < 0 || (r.text !== undefined && r.text !== s.requests[i]?.text)
  if (!news) return { ...s, requests }
  effects.push({ type: 'bell' })
  const n = i < 0 ? requests.length : i + 1
  const said = r.text === undefined ? '' : `: "${preview(r.text)}"`
  return { ...s, requests, notice: notice(`contact request from ${requestLabel(r)}${said}  (/requests, /accept ${n}, /decline ${n})`, 'info', now) }
}

export function without<T> (rec: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const out = { ...rec }
  delete out[key]
  return out
}

/** "carol 2, dave 1", most first; null when nothing is unread elsewhere. */
export function unreadSummary (s: Pick<ChatState, 'unread' | 'names'>): { total: number, text: string } | null {
  const entries = Object.entries(s.unread).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1])
  if (entries.length === 0) return null
  const total = entries.reduce((n, [, k]) => n + k, 0)
  return { total, text: entries.map(([fp, n]) => `${labelOf(s, fp)} ${n}`).join(', ') }
}

/** The conversation with the most unread messages, for /c without a name. */
export function busiestElsewhere (s: Pick<ChatState, 'unread'>): string | null {
  let best: string | null = null
  for (const [fp, n] of Object.entries(s.unread)) if (n > 0 && (best === null || n > (s.unread[best] ?? 0))) best = fp
  return best
}

/**
 * A request by its number in /requests (1 = oldest), or by the start of its fingerprint (≥ 4
 * characters) or the name it gave, when exactly one matches.
 */
export function findRequest (requests: readonly ChatRequest[], arg: string): ChatRequest | string {
  if (requests.length === 0) return 'no pending contact requests'
  if (/^[0-9]+$/.test(arg)) {
    return requests[Number(arg) - 1] ?? `no request ${arg} (1–${requests.length}; /requests lists them)`
  }
  const q = arg.toLowerCase()
  const hits = requests.filter(r => (q.length >= 4 && r.fingerprint.startsWith(q)) || r.name?.toLowerCase() === q)
  if (hits.length === 1) return hits[0] as ChatRequest
  return hits.length === 0 ? `no pending request matches "${terminalSafe(arg)}" (/requests lists them)` : `"${terminalSafe(arg)}" matches ${hits.length} requests: use its number`
}

/** The /requests panel. */
export function requestLines (requests: readonly ChatRequest[]): string[] {
  if (requests.length === 0) return ['no pending contact requests']
  return requests.map((r, i) => `${i + 1}. ${requestLabel(r)}${r.text === undefined ? '' : `: "${preview(r.text, 60)}"`}`)
    .concat(['/accept <n> makes them a contact; /decline <n> drops the request'])
}
