// `npm run bench`: runs every benchmark module in scripts/bench/ (or those named on the command
// line, e.g. `npm run bench -- store noise`). Each module exports `run()` and prints one JSON line
// per metric; this runner adds nothing to stdout but those lines, so the output can be piped.
import { readdir } from 'node:fs/promises'
import { dirname, join, basename } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const dir = join(dirname(fileURLToPath(import.meta.url)), 'bench')
const wanted = new Set(process.argv.slice(2))
const files = (await readdir(dir)).filter(f => f.endsWith('.ts')).sort()
for (const file of files) {
  const name = basename(file, '.ts')
  if (wanted.size > 0 && !wanted.has(name)) continue
  const mod = await import(pathToFileURL(join(dir, file)).href) as { run?: () => Promise<void> }
  if (typeof mod.run !== 'function') continue
  process.stderr.write(`# bench ${name}\n`)
  await mod.run()
}
