// The README's layout table is where a reader learns what each part of src/ is: every directory
// of src/, at any depth, is named there (as `name/`, relative to src/).
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../../scripts/build-stamp.mjs'

function directories (root: string, rel = ''): string[] {
  const out: string[] = []
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    if (!e.isDirectory()) continue
    const child = rel === '' ? e.name : `${rel}/${e.name}`
    out.push(child, ...directories(root, child))
  }
  return out.sort()
}

t.test('the README layout table names every directory of src/', async t => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const layout = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 1))
  const row = layout.split('\n').find(l => l.startsWith('| `src/` |')) ?? ''
  t.not(row, '', 'the table has a src/ row')
  const dirs = directories(join(REPO_ROOT, 'src'))
  t.ok(dirs.length > 10, `${dirs.length} directories`)
  t.same(dirs.filter(d => !row.includes(`\`${d}/\``)), [], 'none is missing from the src/ row')
})
