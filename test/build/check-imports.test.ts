// scripts/check-imports.ts, the layering and import-cycle check `npm run lint` runs: on a tiny tree
// it reports each kind of violation and lets type-only cycles and downward imports through.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { checkImports, layerOf } from '../../scripts/check-imports.js'

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'check-imports.ts')

function tree (files: Record<string, string>): string {
  const root = t.testdir()
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, dirname(path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

t.test('the layer table: a directory maps to its layer, an unlisted one to none', async t => {
  t.same(layerOf('src/errors.ts'), { rank: 0, unit: 'src/errors.ts' })
  t.ok((layerOf('src/crypto/noise/index.ts')?.rank ?? 0) < (layerOf('src/messaging/service.ts')?.rank ?? 0))
  t.equal(layerOf('src/transport/x.ts')?.rank, layerOf('src/dht/x.ts')?.rank, 'the protocols are side by side')
  t.equal(layerOf('src/nowhere/x.ts'), undefined)
})

t.test('a clean tree: downward, same-directory and type-only cycles pass', async t => {
  const root = tree({
    'src/errors.ts': 'export class E extends Error {}\n',
    'src/crypto/a.ts': "import { E } from '../errors.js'\nimport type { B } from './b.js'\nexport const a = (b: B) => new E(String(b))\n",
    'src/crypto/b.ts': "import { a } from './a.js'\nexport type B = number\nexport const b = a\n",
    'src/messaging/m.ts': "import {\n  type B\n} from '../crypto/b.js'\nexport const m = async () => await import('../crypto/a.js')\nexport type M = B\n",
    'commands/c.ts': "import { m } from '../src/messaging/m.js'\nexport default m\n",
    'test/x.test.ts': "import '../scripts/s.js'\nimport '../src/messaging/m.js'\n",
    'scripts/s.ts': "// a comment naming import('../test/x.test.js') is not an import\nimport { a } from '../src/crypto/a.js'\nexport default a\n"
  })
  t.same(checkImports(root), [])
})

t.test('a runtime cycle, an upward import, a same-layer directory cycle, scripts -> test: each reported', async t => {
  const root = tree({
    'src/wire/a.ts': "import { b } from './b.js'\nexport const a = () => b\n",
    'src/wire/b.ts': "export { a as b } from './a.js'\n",
    'src/crypto/up.ts': "import { type M, m } from '../messaging/m.js'\nexport const up: M = m\n",
    'src/messaging/m.ts': 'export type M = number\nexport const m = 1\n',
    'src/store/s.ts': "import type { K } from '../keystore/k.js'\nexport type S = K\n",
    'src/keystore/k.ts': "import type { S } from '../store/s.js'\nexport type K = S | 1\n",
    'src/late/x.ts': "const lazy = () => import('../messaging/m.js')\nexport default lazy\n",
    'scripts/s.ts': "import { f } from '../test/f.js'\nexport default f\n",
    'test/f.ts': 'export const f = 1\n'
  })
  const problems = checkImports(root)
  t.same(problems, [
    'scripts/s.ts -> test/f.ts: scripts/ must not import test/',
    'src/crypto/up.ts -> src/messaging/m.ts: upward import (src/crypto/ is layer 5, src/messaging/ is layer 8)',
    'src/keystore/k.ts -> src/store/s.ts, src/store/s.ts -> src/keystore/k.ts: directories of one layer import each other (src/keystore/ -> src/store/ -> src/keystore/)',
    'src/late/x.ts: not in any layer of scripts/check-imports.ts LAYERS',
    'src/wire/a.ts -> src/wire/b.ts -> src/wire/a.ts: runtime import cycle'
  ])

  // run as `npm run lint` runs it: one line per violation on stdout, a non-zero exit
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, root], { encoding: 'utf8', timeout: 30_000 })
  t.equal(r.status, 1, r.stderr)
  t.same(r.stdout.trim().split('\n'), problems)
  t.match(r.stderr, /^check-imports: 5 violations/)
})

t.test('the repository itself passes', async t => {
  t.same(checkImports(join(import.meta.dirname, '..', '..')), [])
})
