// The one notice line a file transfer shows in the chat (/file, and an offer from the open
// conversation's peer): its name, the id prefix `dmess files` shows and takes, and its state.
// Progress is not shown here: the daemon tells of state changes only (ipc.md §13); `dmess files`
// polls it.
import { terminalSafe } from '../platform/terminal-text.js'
import type { ChatTransfer } from './types.js'

/** the id prefix `dmess files` prints (src/cli/files.ts); accept/decline/cancel take it */
const ID_SHOWN = 8

export function transferNotice (t: ChatTransfer): string {
  const id = t.id.slice(0, ID_SHOWN)
  const what = `file ${terminalSafe(t.name)} (${id}): ${t.state}${t.reason === null ? '' : ` (${terminalSafe(t.reason)})`}`
  if (t.direction === 'in' && t.state === 'offered') return `${what} — dmess files accept ${id}`
  // stopped by our full disk (proto-spec/files.md §4.1)
  if (t.direction === 'in' && t.state === 'failed' && t.reason === 'disk full') return `${what} — free space, then dmess files resume ${id}`
  return what
}
