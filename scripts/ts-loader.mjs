// The TypeScript loader for tap's full run (.taprc node-arg), in place of tap's own, a ts-node
// fork that loads the TypeScript compiler into every test process and compiles each module with
// it: measured 1.5–9 s more CPU per test file than this loader (2.2 → 0.9 s for a small pure file,
// 11.6 → 2.7 s for one that imports the daemon), 215 files on 2 cores. esbuild (already a dev
// dependency, for the bundle) strips the types in milliseconds. Unlike tsx, which minifies
// whitespace so a whole module is one line and tap's line coverage counts a loaded file as run,
// the output keeps one generated line per source statement and an inline source map, so coverage
// stays per line (checked: a test calling only computeCookie leaves cookie.ts's CookieJar
// uncovered, as under ts-node).
import { register } from 'node:module'

register('./ts-loader-hooks.mjs', import.meta.url)
