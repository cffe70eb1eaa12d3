// A V8 CPU profile (node --cpu-prof) cut to a window of time, summed by function and by source
// file, for benchmarks that profile a process over one part of its life (lab-connect: one
// connect). The profile's timestamps are V8's monotonic clock in µs, the same CLOCK_MONOTONIC as
// `process.hrtime` (Linux), so a window taken with `monoUs()` in another process on the same
// machine cuts it. Functions in a bundle are mapped to their TypeScript source through the
// bundle's source map (node:module SourceMap), when it has one.
import { readFileSync, existsSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { fileURLToPath } from 'node:url'

/** Now on the clock a --cpu-prof profile's timestamps use: µs of CLOCK_MONOTONIC. */
export function monoUs (): number {
  return Number(process.hrtime.bigint() / 1000n)
}

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface Profile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

export interface WindowSummary {
  /** ms of samples in the window that were not idle */
  busyMs: number
  /** ms spent in V8's own work outside JS: GC, compiling ("(program)" is mostly parsing and compiling) */
  gcMs: number
  programMs: number
  /** self ms by function (name and source file:line), the largest first */
  functions: Array<[string, number]>
  /** self ms by source file, the largest first */
  files: Array<[string, number]>
  /** inclusive ms of the functions named in `inclusive`, the largest first */
  inclusive: Array<[string, number]>
}

const maps = new Map<string, SourceMap | null>()

function sourceMapOf (url: string): SourceMap | null {
  if (maps.has(url)) return maps.get(url)!
  let map: SourceMap | null = null
  try {
    const path = url.startsWith('file:') ? fileURLToPath(url) : url
    if (existsSync(`${path}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')))
  } catch {
    map = null
  }
  maps.set(url, map)
  return map
}

/** "name file:line", through the source map where there is one. */
function place (cf: CallFrame): { fn: string, file: string } {
  const name = cf.functionName === '' ? '(anonymous)' : cf.functionName
  if (cf.url === '') return { fn: name, file: name.startsWith('(') ? name : '(native)' }
  const entry = sourceMapOf(cf.url)?.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string, originalLine?: number } | undefined
  if (entry?.originalSource !== undefined) {
    const file = entry.originalSource.replace(/^.*?\/(src|node_modules)\//, '$1/')
    return { fn: `${name} ${file}:${(entry.originalLine ?? 0) + 1}`, file }
  }
  const file = cf.url.replace(/^.*\/node_modules\//, 'node_modules/').replace(/^file:\/\/.*\/dist\//, 'dist/')
  return { fn: `${name} ${file}:${cf.lineNumber + 1}`, file }
}

/** The samples of `file` between fromUs and toUs (monoUs clock), summed; the `top` largest of each list. */
export function summarize (file: string, fromUs: number, toUs: number, top = 25, inclusiveOf: readonly string[] = []): WindowSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(prof.nodes.map(n => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<number, number>()
  let t = prof.startTime
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i]!
    if (t < fromUs || t > toUs) continue
    // a sample stands for the time until the next one
    const dt = (i + 1 < prof.timeDeltas.length ? prof.timeDeltas[i + 1]! : 0) / 1000
    self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + dt)
  }
  const fns = new Map<string, number>()
  const files = new Map<string, number>()
  const incl = new Map<string, number>()
  let busy = 0; let gc = 0; let program = 0
  for (const [id, ms] of self) {
    const node = byId.get(id)!
    const { fn, file: src } = place(node.callFrame)
    if (node.callFrame.functionName === '(idle)') continue
    busy += ms
    if (node.callFrame.functionName === '(garbage collector)') gc += ms
    if (node.callFrame.functionName === '(program)') program += ms
    fns.set(fn, (fns.get(fn) ?? 0) + ms)
    files.set(src, (files.get(src) ?? 0) + ms)
    // inclusive: each named function on the stack once
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur)!.callFrame.functionName
      if (inclusiveOf.includes(name) && !seen.has(name)) { seen.add(name); incl.set(name, (incl.get(name) ?? 0) + ms) }
    }
  }
  const round = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, Math.round(v * 10) / 10])
  return { busyMs: Math.round(busy), gcMs: Math.round(gc), programMs: Math.round(program), functions: round(fns), files: round(files), inclusive: round(incl) }
}
