// Keeps the layers honest (`npm run lint` runs it): reads every relative import in src/, commands/,
// scripts/ and test/ and exits non-zero, one line per violation, on
//  - a runtime import cycle (type-only imports are erased by the compiler and do not count): the
//    modules of a cycle evaluate in an order that depends on which one is imported first, so one
//    of them sees the other's bindings uninitialised;
//  - an import from a lower layer of src/ to a higher one (type-only imports count here: naming a
//    higher layer's type is depending on it), or between directories of the same layer in a cycle;
//  - src/ importing commands/, scripts/ or test/; commands/ importing scripts/ or test/; scripts/
//    importing test/ (test/ may import anything).
// A regular expression over the source is enough: NodeNext resolution makes every relative import
// name its file ('./x.js' for x.ts), and imports start a line. Bare package imports are ignored;
// an unresolvable relative import is left to tsc, which reports it.
//   node --import tsx scripts/check-imports.ts [root]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * The layers of src/, lowest first; a module may import its own layer (without a cycle between
 * directories) and the layers below it, never one above. Paths are relative to the repository root.
 *  0  errors.ts: the error classes every layer throws.
 *  1  platform/: thin wrappers over node: (atomic file writes).
 *  2  runtime/: the component contract and the event bus the messaging service, the node and the
 *     daemon all use.
 *  3  io/: the I/O seam (schedulers, datagram sockets, the UDP adapter, addresses).
 *  4  sim/: the deterministic simulator (clock, rng, network) the I/O seam can be backed by.
 *  5  crypto/, wire/, config/: primitives, identities and Noise; the frame codecs (wire/ encodes
 *     with crypto/'s hashes); the settings file.
 *  6  transport/, dht/, discovery/, store/, keystore/, portmap/, stun/, relay/, traversal/, pqxdh/:
 *     the protocols and the persistent state, side by side (stun/, relay/ and traversal/ use
 *     transport/'s token buckets; traversal/ uses dht/'s address codec; pqxdh/ is the session
 *     start with its prekey file); ratchet/ is the pure Double Ratchet core over crypto/'s primitives.
 *  7  app/: the user's profile and contact book, over store/ and keystore/; session-crypto/: envelope v2's
 *     sessions (PQXDH starts and ratchet states per peer), over pqxdh/, ratchet/ and wire/.
 *  8  messaging/: the messenger: sessions to contacts, outbox, requests, receipts; files/: file
 *     transfer over the same links (it uses messaging/, never the other way round).
 *  9  node/: the composition root: one whole node (transport, DHT, discovery, messaging) and testnets of them.
 * 10  daemon/: the process around one node: IPC, lock, log, detach.
 * 11  cli/, chat/: what a command or the chat screen needs to talk to the daemon and print.
 * commands/ sits above all of src/; scripts/ above src/ too; test/ above everything.
 */
export const LAYERS: ReadonlyArray<readonly string[]> = [
  ['src/errors.ts'],
  ['src/platform/'],
  ['src/runtime/'],
  ['src/io/'],
  ['src/sim/'],
  ['src/crypto/', 'src/wire/', 'src/config/'],
  ['src/transport/', 'src/dht/', 'src/discovery/', 'src/store/', 'src/keystore/', 'src/portmap/', 'src/stun/', 'src/relay/', 'src/traversal/', 'src/ratchet/', 'src/pqxdh/'],
  ['src/app/', 'src/session-crypto/'],
  ['src/messaging/', 'src/files/'],
  ['src/node/'],
  ['src/daemon/'],
  ['src/cli/', 'src/chat/']
]

const ROOTS = ['src', 'commands', 'scripts', 'test']
const SOURCE = /\.(ts|tsx|mts|mjs|js)$/

/** Which of a repository-relative path's top directories may not be imported from it. */
const FORBIDDEN: Record<string, readonly string[]> = {
  src: ['commands', 'scripts', 'test'],
  commands: ['scripts', 'test'],
  scripts: ['test']
}

export interface Import { from: string, to: string, typeOnly: boolean }

/** The layer a repository-relative path of src/ belongs to: its rank and its directory (or file). */
export function layerOf (path: string): { rank: number, unit: string } | undefined {
  for (let rank = 0; rank < LAYERS.length; rank++) {
    for (const unit of LAYERS[rank] ?? []) {
      if (unit.endsWith('/') ? path.startsWith(unit) : path === unit) return { rank, unit }
    }
  }
  return undefined
}

function listSources (root: string, dir: string, out: string[]): void {
  if (!existsSync(join(root, dir))) return
  for (const name of readdirSync(join(root, dir)).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = `${dir}/${name}`
    if (statSync(join(root, path)).isDirectory()) listSources(root, path, out)
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path)
  }
}

// `import … from '…'`, `export … from '…'`, `import '…'` at the start of a line (so not in a
// comment), over several lines when the braces do; group 1 is the clause, group 2 the specifier.
const STATIC = /^[ \t]*(?:import|export)\b([^'";]*?)\bfrom\s*['"]([^'"]+)['"]|^[ \t]*import\s*()['"]([^'"]+)['"]/gm
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

/** Whether an import/export clause (what stands between the keyword and `from`) is erased at run time. */
function clauseIsTypeOnly (clause: string): boolean {
  const c = clause.trim()
  if (/^type\b/.test(c)) return true
  const braces = /^\{([^}]*)\}$/.exec(c)
  if (braces === null) return false
  const names = (braces[1] ?? '').split(',').map(s => s.trim()).filter(s => s !== '')
  return names.length > 0 && names.every(s => /^type\s/.test(s))
}

/** Resolves a relative specifier to a repository-relative source path, or undefined. */
function resolveSpecifier (root: string, from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined
  const base = relative(root, resolve(root, dirname(from), spec)).split('\\').join('/')
  const stem = base.replace(/\.(js|jsx|mjs|ts|tsx|mts)$/, '')
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.js`, `${stem}.mjs`]
  return candidates.find(c => existsSync(join(root, c)) && statSync(join(root, c)).isFile())
}

/** Every relative import of the files under root's src/, commands/, scripts/ and test/. */
export function readImports (root: string): { files: string[], imports: Import[] } {
  const files: string[] = []
  for (const dir of ROOTS) listSources(root, dir, files)
  const imports: Import[] = []
  for (const from of files) {
    const text = readFileSync(join(root, from), 'utf8')
    for (const m of text.matchAll(STATIC)) {
      const spec = m[2] ?? m[4] ?? ''
      const to = resolveSpecifier(root, from, spec)
      if (to !== undefined) imports.push({ from, to, typeOnly: m[2] !== undefined && clauseIsTypeOnly(m[1] ?? '') })
    }
    for (const line of text.split('\n')) {
      if (/^\s*(\/\/|\*|\/\*)/.test(line)) continue
      for (const m of line.matchAll(DYNAMIC)) {
        const to = resolveSpecifier(root, from, m[1] ?? '')
        if (to !== undefined) imports.push({ from, to, typeOnly: false })
      }
    }
  }
  return { files, imports }
}

/** Strongly connected components with more than one member or a self-edge (Tarjan, iterative). */
function cycles (nodes: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const out: string[][] = []
  let next = 0
  for (const start of nodes) {
    if (index.has(start)) continue
    const work: Array<{ node: string, i: number }> = [{ node: start, i: 0 }]
    index.set(start, next); low.set(start, next); next++
    stack.push(start); onStack.add(start)
    while (work.length > 0) {
      const top = work[work.length - 1] as { node: string, i: number }
      const succ = edges.get(top.node) ?? []
      if (top.i < succ.length) {
        const w = succ[top.i++] as string
        if (!index.has(w)) {
          index.set(w, next); low.set(w, next); next++
          stack.push(w); onStack.add(w)
          work.push({ node: w, i: 0 })
        } else if (onStack.has(w)) {
          low.set(top.node, Math.min(low.get(top.node) as number, index.get(w) as number))
        }
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(top.node) as number))
      if (low.get(top.node) === index.get(top.node)) {
        const scc: string[] = []
        let w: string
        do { w = stack.pop() as string; onStack.delete(w); scc.push(w) } while (w !== top.node)
        if (scc.length > 1 || succ.includes(top.node)) out.push(scc.sort())
      }
    }
  }
  return out
}

/** The shortest path from start back to start inside one component (breadth first). */
function shortestCycle (start: string, members: ReadonlySet<string>, edges: ReadonlyMap<string, readonly string[]>): string[] {
  const prev = new Map<string, string>()
  const queue = [start]
  for (let q = 0; q < queue.length; q++) {
    const node = queue[q] as string
    for (const w of edges.get(node) ?? []) {
      if (!members.has(w)) continue
      if (w === start) {
        const chain = [node]
        for (let at = node; at !== start;) { at = prev.get(at) as string; chain.unshift(at) }
        return [...chain, start]
      }
      if (!prev.has(w)) { prev.set(w, node); queue.push(w) }
    }
  }
  return [start, start]
}

function graph (pairs: Iterable<[string, string]>): Map<string, string[]> {
  const edges = new Map<string, string[]>()
  for (const [a, b] of pairs) {
    const list = edges.get(a) ?? []
    if (!list.includes(b)) list.push(b)
    edges.set(a, list)
  }
  return edges
}

/** Every violation under root, one line each, sorted. */
export function checkImports (root: string): string[] {
  const { files, imports } = readImports(root)
  const problems: string[] = []
  const top = (path: string): string => path.split('/')[0] ?? ''

  for (const file of files) {
    if (file.startsWith('src/') && layerOf(file) === undefined) problems.push(`${file}: not in any layer of scripts/check-imports.ts LAYERS`)
  }
  // same-layer directory edges, with one import that makes each, for the cycle check below
  const unitEdges = new Map<string, Import>()
  for (const imp of imports) {
    if ((FORBIDDEN[top(imp.from)] ?? []).includes(top(imp.to))) {
      problems.push(`${imp.from} -> ${imp.to}: ${top(imp.from)}/ must not import ${top(imp.to)}/`)
      continue
    }
    const a = layerOf(imp.from)
    const b = layerOf(imp.to)
    if (a === undefined || b === undefined || a.unit === b.unit) continue
    if (a.rank < b.rank) problems.push(`${imp.from} -> ${imp.to}: upward import (${a.unit} is layer ${a.rank}, ${b.unit} is layer ${b.rank})`)
    else if (a.rank === b.rank && !unitEdges.has(`${a.unit} ${b.unit}`)) unitEdges.set(`${a.unit} ${b.unit}`, imp)
  }

  const units = graph([...unitEdges.keys()].map(k => k.split(' ') as [string, string]))
  for (const scc of cycles([...units.keys()].sort(), units)) {
    const path = shortestCycle(scc[0] as string, new Set(scc), units)
    const witnesses = path.slice(1).map((u, i) => unitEdges.get(`${path[i] ?? ''} ${u}`) as Import)
    problems.push(`${witnesses.map(w => `${w.from} -> ${w.to}`).join(', ')}: directories of one layer import each other (${path.join(' -> ')})`)
  }

  const runtime = graph(imports.filter(i => !i.typeOnly).map(i => [i.from, i.to]))
  for (const scc of cycles(files, runtime)) {
    const path = shortestCycle(scc[0] as string, new Set(scc), runtime)
    const more = scc.length > path.length - 1 ? ` (one of the cycles among ${scc.length} modules: ${scc.join(', ')})` : ''
    problems.push(`${path.join(' -> ')}: runtime import cycle${more}`)
  }
  return problems.sort()
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
  const problems = checkImports(root)
  for (const p of problems) console.log(p)
  if (problems.length > 0) {
    console.error(`check-imports: ${problems.length} violation${problems.length === 1 ? '' : 's'} (layers: scripts/check-imports.ts)`)
    process.exitCode = 1
  }
}
