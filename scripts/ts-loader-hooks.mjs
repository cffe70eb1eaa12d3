// Module hooks (https://nodejs.org/api/module.html#customization-hooks) behind scripts/ts-loader.mjs.
// resolve: the sources import each other as `./x.js` (tsconfig module NodeNext), which names
// x.ts or x.tsx on disk. load: .ts/.tsx become ES modules through esbuild, with an inline
// source map naming the original file (tap's coverage report and stack traces read it).
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const TS = /\.(ts|tsx)$/

export async function resolve (specifier, context, nextResolve) {
  const parent = context.parentURL
  if (parent?.startsWith('file:') && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
    for (const ext of ['.ts', '.tsx']) {
      const candidate = new URL(specifier.slice(0, -3) + ext, parent)
      if (!existsSync(new URL(specifier, parent)) && existsSync(candidate)) return nextResolve(candidate.href, context)
    }
  }
  return nextResolve(specifier, context)
}

// Transformed modules are kept on disk, by a hash of the loader options, esbuild's version, the URL
// and the source:
// every test file is its own process, and most import hundreds of the same modules, so without it
// each process started esbuild's service and transformed them all again (a test importing the
// daemon: 3.0 s of CPU to load, esbuild's process counted, against 1.65 s from the cache). A stale entry cannot be hit: the key covers the
// bytes transformed. Entries are written whole (a temporary file, then rename).
const OPTIONS = { format: 'esm', target: 'node20', jsx: 'automatic', sourcemap: 'inline' } // jsx: tsconfig.json "jsx": "react-jsx"
const CACHE = new URL('../node_modules/.cache/dmess-ts-loader/', import.meta.url)
const ESBUILD_VERSION = JSON.parse(readFileSync(new URL('../node_modules/esbuild/package.json', import.meta.url), 'utf8')).version
const OPTIONS_KEY = `${JSON.stringify(OPTIONS)}\0esbuild ${ESBUILD_VERSION}`
let esbuild

export async function load (url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS.test(new URL(url).pathname)) return nextLoad(url, context)
  const path = fileURLToPath(url)
  const source = await readFile(path, 'utf8')
  const key = createHash('sha256').update(OPTIONS_KEY).update('\0').update(url).update('\0').update(source).digest('hex')
  const entry = new URL(key + '.js', CACHE)
  try {
    return { format: 'module', source: await readFile(entry, 'utf8'), shortCircuit: true }
  } catch { /* not transformed yet */ }
  esbuild ??= await import('esbuild')
  const { code } = await esbuild.transform(source, { ...OPTIONS, loader: path.endsWith('x') ? 'tsx' : 'ts', sourcefile: url })
  try {
    await mkdir(CACHE, { recursive: true })
    const tmp = new URL(`${key}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`, CACHE)
    await writeFile(tmp, code)
    await rename(tmp, entry)
  } catch { /* a read-only tree: transform again next time */ }
  return { format: 'module', source: code, shortCircuit: true }
}
