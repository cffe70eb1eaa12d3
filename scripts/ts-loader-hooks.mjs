// Module hooks (https://nodejs.org/api/module.html#customization-hooks) behind scripts/ts-loader.mjs.
// resolve: the sources import each other as `./x.js` (tsconfig module NodeNext), which names
// x.ts or x.tsx on disk. load: .ts/.tsx become ES modules through esbuild, with an inline
// source map naming the original file (tap's coverage report and stack traces read it).
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

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

export async function load (url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS.test(new URL(url).pathname)) return nextLoad(url, context)
  const path = fileURLToPath(url)
  const { code } = await transform(await readFile(path, 'utf8'), {
    loader: path.endsWith('x') ? 'tsx' : 'ts',
    format: 'esm',
    target: 'node20',
    jsx: 'automatic', // tsconfig.json "jsx": "react-jsx"
    sourcemap: 'inline',
    sourcefile: url
  })
  return { format: 'module', source: code, shortCircuit: true }
}
