// The TypeScript loader for tap's full run (.taprc node-arg), in place of tap's own, a ts-node
// fork that loads the TypeScript compiler into every test process: ~1.2 s of CPU per file before
// the first test, ~4 minutes over the suite. esbuild (already a dev dependency, for the bundle)
// strips the types in milliseconds. Unlike tsx, which esbuild-minifies whitespace so a whole
// module is one line and tap's line coverage counts a loaded file as run, the output keeps one
// generated line per source statement and an inline source map, so coverage stays per line.
import { register } from 'node:module'

register('./ts-loader-hooks.mjs', import.meta.url)
