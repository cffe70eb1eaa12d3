// TypeScript fixtures a test spawns again and again (crash tests kill a child per round), bundled
// once per test process by esbuild (the bundler of scripts/bundle.ts) into one plain .mjs, so a
// child starts without a TypeScript loader. Measured per spawn of test/store/fixtures/writer.ts
// (cgroup CPU of 10 spawns, everything they started): `node --import tsx` 0.70–0.82 s,
// `node --import ./scripts/ts-loader.mjs` 0.62–0.67 s, the bundle 0.23 s; bundling costs ~0.2 s once.
// The bundle runs the same code: packages stay outside it (classic-level's native addon must),
// imported by the absolute path this process resolves them to, and each source file's
// `import.meta.url` stays its own file's URL (src/crypto/native-aead.ts finds build/Release/ from it).
import { build, type Plugin } from 'esbuild'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

let dir: string | undefined
const bundles = new Map<string, Promise<string>>()

const sameCode: Plugin = {
  name: 'same-code',
  setup (b) {
    // bare specifiers: an absolute path, as resolved for an ES module importing from here
    b.onResolve({ filter: /^[^./]/ }, args => {
      if (isBuiltin(args.path)) return { path: args.path, external: true }
      return { path: fileURLToPath(import.meta.resolve(args.path)), external: true }
    })
    b.onLoad({ filter: /\.tsx?$/ }, args => ({
      contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
      loader: args.path.endsWith('x') ? 'tsx' : 'ts'
    }))
  }
}

/** The path of a plain-JavaScript bundle of the TypeScript file `entry`, made once per process. */
export async function bundledFixture (entry: string): Promise<string> {
  let p = bundles.get(entry)
  if (p === undefined) {
    if (dir === undefined) {
      const made = mkdtempSync(join(tmpdir(), 'dmess-fixtures-'))
      dir = made
      process.on('exit', () => { rmSync(made, { recursive: true, force: true }) })
    }
    const outfile = join(dir, `${bundles.size}-${basename(entry).replace(/\.tsx?$/, '')}.mjs`)
    p = build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', plugins: [sameCode], logLevel: 'silent' }).then(() => outfile)
    bundles.set(entry, p)
  }
  return await p
}
