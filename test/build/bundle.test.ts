// The detached daemon ships as one CommonJS file (scripts/bundle.ts): which entry `dmess daemon
// --detach` spawns, and the properties the bundle's memory saving rests on.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { childEntry } from '../../src/daemon/detach.js'
import { REPO_ROOT, bundle, bundleCommands } from '../../scripts/bundle.js'

t.test('the daemon entry: the bundle when built, the modules when only tsc ran, the source under a TS loader', async t => {
  const dist = join(t.testdir(), 'dist')
  const daemonDir = join(dist, 'src', 'daemon')
  mkdirSync(daemonDir, { recursive: true })
  const here = join(daemonDir, 'detach.js')
  t.equal(childEntry(here), join(daemonDir, 'detached-main.js'), 'no bundle: detached-main.js beside detach.js')
  writeFileSync(join(dist, 'daemon.cjs'), '')
  t.equal(childEntry(here), join(dist, 'daemon.cjs'), 'bundled: dist/daemon.cjs')
  t.equal(childEntry(join(daemonDir, 'detach.ts')), join(daemonDir, 'detached-main.ts'), 'TypeScript: the source')
  t.equal(childEntry(join(dist, 'commands', 'daemon.js')), join(dist, 'daemon.cjs'), 'from the bundled `dmess daemon` command')
  t.equal(childEntry(join(dist, 'commands', 'config', 'get.js')), join(dist, 'daemon.cjs'), 'from a command one level down')
})

t.test('each command loads only the packages it calls; the chat loads ink only when it runs', async t => {
  const dist = join(REPO_ROOT, 'dist', `.commands-test-${process.pid}`)
  t.teardown(() => rmSync(dist, { recursive: true, force: true }))
  const entries = await bundleCommands(REPO_ROOT, dist)
  t.ok(entries.length > 20, `${entries.length} commands`)
  /** Packages a file imports statically, through the chunks it imports. */
  const staticPackages = (file: string, seen = new Set<string>()): Set<string> => {
    const out = new Set<string>()
    if (seen.has(file)) return out
    seen.add(file)
    for (const m of readFileSync(file, 'utf8').matchAll(/\b(?:from|import)\s*"([^"]+)"/g)) {
      const p = m[1] ?? ''
      if (p.startsWith('.')) for (const q of staticPackages(join(dirname(file), p), seen)) out.add(q)
      else if (!p.startsWith('node:')) out.add(p)
    }
    return out
  }
  t.same([...staticPackages(join(dist, 'commands', 'status.js'))], ['@oclif/core'], '`dmess status` imports no store, LevelDB, logger or mDNS package')
  t.notOk(staticPackages(join(dist, 'commands', 'chat.js')).has('ink'), '`dmess chat` imports ink only after it has cleared $CI (src/chat/tty.ts)')
  t.match(readFileSync(join(dist, 'commands', 'chat.js'), 'utf8'), /import\("\.\.\/chunks\//, 'through a dynamic import of a chunk')
  t.notMatch(readFileSync(join(dist, 'commands', 'config', 'get.js'), 'utf8'), /from\s*"yaml"/, 'yaml is inlined')
  t.notOk(readdirSync(join(dist, 'commands')).some(f => f.startsWith('chunk')), 'no chunk among the commands oclif lists')
})

t.test('the bundle: one-byte source, strict, CommonJS, no ES module loader', async t => {
  const rel = join('dist', `.bundle-test-${process.pid}`, 'daemon.cjs')
  const out = await bundle('src/daemon/detached-main.ts', rel)
  t.teardown(() => rmSync(join(REPO_ROOT, 'dist', `.bundle-test-${process.pid}`), { recursive: true, force: true }))
  const bytes = readFileSync(out)
  t.equal(bytes.findIndex(b => b > 0x7f), -1, 'ASCII only: V8 keeps it one byte per character')
  const text = bytes.toString('latin1')
  t.ok(text.startsWith("'use strict';"), 'strict mode, as the ES modules were')
  t.notMatch(text, /\bimport\(/, 'no dynamic import(): a running daemon never starts the ES module loader (ESM-only packages are bundled)')
  t.notMatch(text, /import\.meta/, 'import.meta.url is the bundle\'s own URL')
  t.match(text, /require\("classic-level"\)/, 'packages with native parts stay in node_modules')
  t.ok(readFileSync(out + '.map', 'utf8').includes('src/daemon/detached-main.ts'), 'a source map back to src/')
  // It runs: by hand it refuses in one line, as the module entry does (cli.test.ts runs it detached).
  const r = spawnSync(process.execPath, [out, '--home', t.testdir()], { encoding: 'utf8', timeout: 20_000 })
  t.not(r.status, 0, r.stderr)
  t.match(r.stderr, /^Error: this is the background daemon started by `dmess daemon --detach`; run that instead\n$/)
})
