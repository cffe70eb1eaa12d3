// Glue for the file commands (commands/send.ts --file, commands/files/): the text form of a
// transfer, and the progress line a terminal gets while files go (never with --json or when
// stdout is not a terminal). Names a peer chose go through terminalSafe.
import type { Call } from '../daemon/rpc-methods.js'
import type { TransferJson } from '../files/transfer.js'
import { terminalSafe } from '../platform/terminal-text.js'

const TERMINAL = new Set(['done', 'declined', 'cancelled', 'failed'])

export function isFinished (t: TransferJson): boolean { return TERMINAL.has(t.state) }

export function bytesText (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u] as string}`
}

function duration (s: number): string {
  if (!Number.isFinite(s)) return '--:--'
  const t = Math.max(0, Math.round(s))
  const h = Math.floor(t / 3600)
  const mm = String(Math.floor((t % 3600) / 60)).padStart(2, '0')
  const ss = String(t % 60).padStart(2, '0')
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`
}

/** What to do about a transfer stopped by our full disk (proto-spec/files.md §4.1). */
export function resumeHint (t: TransferJson): string {
  return t.direction === 'in' && t.state === 'failed' && t.reason === 'disk full' ? ` — free space, then dmess files resume ${t.id.slice(0, 8)}` : ''
}

/** `a1b2c3d4  out  report.pdf  active  45% of 20 MiB` */
export function transferLine (t: TransferJson, peerLabel: string): string {
  const pct = t.size === 0 ? 100 : Math.floor(100 * t.bytesDone / t.size)
  const why = t.reason === null ? '' : ` (${terminalSafe(t.reason)}${resumeHint(t)})`
  const where = t.path === null ? '' : ` → ${terminalSafe(t.path)}`
  return `${t.id.slice(0, 8)}  ${t.direction === 'in' ? 'from' : 'to'} ${peerLabel}  ${terminalSafe(t.name)}  ${t.state}${why}  ${pct}% of ${bytesText(t.size)}${where}`
}

/** `report.pdf  [#########-----------]  45%  3.2 MiB/s  00:12 left` */
export function progressLine (t: TransferJson, bytesPerS: number, width = 20): string {
  const frac = t.size === 0 ? 1 : Math.min(1, t.bytesDone / t.size)
  const filled = Math.round(frac * width)
  const left = bytesPerS > 0 ? (t.size - t.bytesDone) / bytesPerS : Infinity
  const tail = isFinished(t) ? t.state : `${bytesText(Math.round(bytesPerS))}/s  ${duration(left)} left`
  return `${terminalSafe(t.name)}  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]  ${String(Math.floor(frac * 100)).padStart(3)}%  ${tail}`
}

/**
 * Polls files.list until every transfer in `ids` is finished, drawing one progress line per
 * transfer in place (`out` is a terminal). Resolves with their last state.
 */
export async function followTransfers (call: Call, ids: string[], out: NodeJS.WriteStream, pollMs = 250): Promise<TransferJson[]> {
  const rate = new Map<string, { at: number, bytes: number, perS: number }>()
  let drawn = 0
  for (;;) {
    const now = Date.now()
    const mine = (await call('files.list', {})).filter(t => ids.includes(t.id))
    const lines = mine.map(t => {
      const r = rate.get(t.id)
      let perS = r?.perS ?? 0
      if (r !== undefined && now > r.at) perS = 0.7 * perS + 0.3 * ((t.bytesDone - r.bytes) * 1000 / (now - r.at)) // smoothed
      rate.set(t.id, { at: now, bytes: t.bytesDone, perS })
      return progressLine(t, perS)
    })
    if (drawn > 0) out.write(`\x1b[${drawn}A`)
    for (const l of lines) out.write(`\r\x1b[2K${l}\n`)
    drawn = lines.length
    if (mine.length === ids.length && mine.every(isFinished)) return mine
    await new Promise(resolve => setTimeout(resolve, pollMs))
  }
}
