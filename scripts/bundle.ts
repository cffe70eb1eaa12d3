// The long-running daemon ships as one CommonJS file, dist/daemon.cjs (`npm run build` runs this
// after tsc; proto-spec is untouched: this is packaging, not wire). Why (measured, two processes
// on 127.0.0.1, RSS of the process holding one idle session 1 s after traffic; docs/performance.md §7):
//  - Node's ES module loader costs ~1.3 MiB in any process that starts it (bare `node file.mjs`
//    vs `node file.cjs` holding one UDP socket: 44.2 vs 42.9 MiB);
//  - every ES module costs memory of its own (module record, loader bookkeeping, its source kept
//    by V8 — two bytes per character when one comment holds a '§' or '—'): the transport's 57
//    modules cost ~2 MiB more than the same code as one script with the comments stripped.
// Together: 57.2 -> 53.4 MiB for the same transport peer run as a file. Identifiers are kept (no mangling), so
// stack traces stay readable; dist/daemon.cjs.map maps them back (`node --enable-source-maps`).
//   node --import tsx scripts/bundle.ts          builds every BUNDLES entry and the commands
import { build, type Plugin } from 'esbuild'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** What `npm run build` bundles: the detached daemon's entry point (src/daemon/detach.ts spawns it). */
export const BUNDLES = [{ entry: 'src/daemon/detached-main.ts', outfile: 'dist/daemon.cjs' }]

/**
 * Packages stay external (required from node_modules at run time: classic-level's native binding
 * and pino's worker transports must be), except ESM-only ones: @noble/hashes (Argon2id, loaded
 * when the keystore unlocks) is bundled, so a CommonJS daemon never starts the ES module loader.
 */
const BUNDLED_PACKAGES = /^@noble\/hashes(\/|$)/

const externalPackages: Plugin = {
  name: 'dmess-external-packages',
  setup (b) {
    b.onResolve({ filter: /^[^./]/ }, args => {
      if (args.path.startsWith('node:') || BUNDLED_PACKAGES.test(args.path)) return undefined
      return { path: args.path, external: true }
    })
  }
}

// CommonJS has no import.meta: the modules that find files next to themselves (the native addon,
// bootstrap/nodes.json) get the bundle's own URL; it sits in dist/, so their upward search from
// there finds the package's build/ and bootstrap/ as it does from dist/src/….
const META_URL = '__dmessImportMetaUrl'

/** Bundles one entry (TypeScript, resolved from the repository root) into outfile. Throws on any warning. */
export async function bundle (entry: string, outfile: string, root = REPO_ROOT): Promise<string> {
  const out = join(root, outfile)
  const result = await build({
    entryPoints: [join(root, entry)],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // One byte per character in V8's heap: non-ASCII in strings becomes \u escapes.
    charset: 'ascii',
    // Comments and whitespace go; names stay for stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    define: { 'import.meta.url': META_URL },
    // The directive first: esbuild's own "use strict" comes after the banner, where it does nothing.
    banner: { js: `'use strict';\nconst ${META_URL} = require('node:url').pathToFileURL(__filename).href;` },
    plugins: [externalPackages],
    tsconfig: join(root, 'tsconfig.json'),
    logLevel: 'silent'
  })
  if (result.errors.length > 0 || result.warnings.length > 0) {
    const all = [...result.errors, ...result.warnings].map(m => `${m.location?.file ?? ''}:${m.location?.line ?? ''} ${m.text}`)
    throw new Error(`bundling ${entry}: ${all.join('; ')}`)
  }
  return out
}

/**
 * Every `dmess` command as one ES module file, dist/commands/<id>.js, over what tsc wrote there.
 * oclif imports only the command that runs (oclif.manifest.json lists them all), and an unbundled
 * command imported ~210 compiled modules of src/ and every package they name — `dmess status`
 * loaded the store, LevelDB's native binding, pino and multicast-dns to print one line. Measured
 * here, CPU time of `dmess status` with no daemon: 0.40 s -> 0.22 s (bare `node -e 0`: 0.07 s;
 * the rest is @oclif/core). Packages stay external but are marked free of side effects, so one
 * that a command never calls is never loaded; yaml (35 modules) and @noble are pure JS and
 * inlined. The code behind a dynamic import() (the chat's ink UI) is inlined too but runs only
 * when imported. Module-level codec instances (`new Packr(…)`) carry esbuild's `@__PURE__` mark,
 * so a command that never encodes drops them and never loads msgpackr.
 */
export async function bundleCommands (root = REPO_ROOT, distDir = join(root, 'dist')): Promise<string[]> {
  const entries = listTs(join(root, 'commands'))
  const result = await build({
    entryPoints: entries,
    // each command to <dist>/commands/<id>.js, where oclif finds it; what a dynamic import()
    // loads, and code several commands share, to <dist>/chunks/ (not a command: oclif lists every
    // file under commands/). A dynamic import must stay one: `dmess chat` deletes $CI before ink
    // is first loaded (src/chat/tty.ts), and a bundle without chunks would hoist ink's import to
    // its top, ahead of that.
    outdir: distDir,
    outbase: root,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    charset: 'ascii',
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    // Inlined CommonJS packages call require() for Node's built-ins (yaml: 'process', 'buffer').
    banner: { js: "import { createRequire as __dmessCreateRequire } from 'node:module';\nconst require = __dmessCreateRequire(import.meta.url);" },
    plugins: [commandPackages],
    tsconfig: join(root, 'tsconfig.json'),
    logLevel: 'silent'
  })
  if (result.errors.length > 0 || result.warnings.length > 0) {
    const all = [...result.errors, ...result.warnings].map(m => `${m.location?.file ?? ''}:${m.location?.line ?? ''} ${m.text}`)
    throw new Error(`bundling the commands: ${all.join('; ')}`)
  }
  return entries
}

/** Pure-JS packages inlined into each command (the rest are imported from node_modules). */
const INLINED_IN_COMMANDS = /^(yaml|@noble\/(hashes|ciphers|curves))(\/|$)/

const commandPackages: Plugin = {
  name: 'dmess-command-packages',
  setup (b) {
    b.onResolve({ filter: /^[^./]/ }, args => {
      if (args.path.startsWith('node:') || INLINED_IN_COMMANDS.test(args.path)) return undefined
      return { path: args.path, external: true, sideEffects: false }
    })
  }
}

function listTs (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...listTs(p))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const b of BUNDLES) {
    const out = await bundle(b.entry, b.outfile)
    console.log(`bundled ${b.entry} -> ${out.slice(REPO_ROOT.length + 1)}`)
  }
  const commands = await bundleCommands()
  console.log(`bundled ${commands.length} commands -> dist/commands/`)
}
