// A contact as clients see it: the stable JSON shape IPC results, bus events and `--json` output
// carry (proto-spec/ipc.md §4, README "JSON output"), and the one-line label messages name it by.
// Below the daemon, the messaging service and the CLI, which all show contacts.
import type { Contact } from '../store/index.js'
import { terminalSafe } from '../platform/terminal-text.js'

export interface ContactJson {
  fingerprint: string
  name: string | null
  verified: boolean
  keys: boolean
  addedAt: string
  lastSeen: string | null
}

export function contactJson (c: Contact): ContactJson {
  return {
    fingerprint: c.fingerprint,
    name: c.name ?? null,
    verified: c.verified,
    keys: c.signPublic !== undefined,
    addedAt: new Date(c.addedAt).toISOString(),
    lastSeen: c.lastSeen === undefined ? null : new Date(c.lastSeen).toISOString()
  }
}

/** How messages and errors name a contact: the name (as the terminal may show it) and a fingerprint prefix. */
export function contactLabel (c: Contact): string {
  return c.name ? `${terminalSafe(c.name)} (${c.fingerprint.slice(0, 12)}…)` : c.fingerprint
}
