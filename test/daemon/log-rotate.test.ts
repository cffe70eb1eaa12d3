// Size-based rotation of the detached daemon's log (src/daemon/log-rotate.ts) on a real file:
// rotated files are whole lines in order with none lost between them, at most `keep` are kept,
// and writes after the in-place truncation (the fd is O_APPEND, as the daemon's stderr is) start
// at the beginning of the file.
import t from 'tap'
import { closeSync, openSync, readFileSync, existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tempHome } from '../helpers/cli.js'
import { RotatingLog } from '../../src/daemon/log-rotate.js'
import { createLogger } from '../../src/daemon/log.js'

function lines (path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(l => l !== '') : []
}

t.test('rotates at the size, keeps N, loses no line between files', async t => {
  const dir = await tempHome(t)
  const path = join(dir, 'daemon.log')
  const fd = openSync(path, 'a', 0o600)
  t.teardown(() => closeSync(fd))
  const log = new RotatingLog(fd, { path, maxBytes: 1024, keep: 2 })
  for (let i = 0; i < 1000; i++) log.write(`line ${i}\n`)
  t.ok(existsSync(`${path}.1`) && existsSync(`${path}.2`), 'two rotated files')
  t.notOk(existsSync(`${path}.3`), 'no third: keep 2')
  for (const p of [path, `${path}.1`, `${path}.2`]) t.ok(statSync(p).size < 1024 + 16, `${p} is about the limit or less`)
  const kept = [...lines(`${path}.2`), ...lines(`${path}.1`), ...lines(path)].map(l => Number(/^line (\d+)$/.exec(l)?.[1]))
  t.equal(kept.at(-1), 999, 'the newest line is in daemon.log')
  t.same(kept, kept.map((_, i) => (kept[0] as number) + i), 'oldest to newest, consecutive: nothing lost or doubled between files')
  t.equal(readFileSync(path, 'utf8').indexOf('\0'), -1, 'no hole where the truncated file was written again')
  t.equal(statSync(`${path}.1`).mode & 0o777, 0o600, 'a rotated copy is the user\'s alone, as the log')
})

t.test('keep 0 drops old lines; maxBytes 0 never rotates; pino writes through it', async t => {
  const dir = await tempHome(t)
  const a = join(dir, 'a.log')
  const fa = openSync(a, 'a', 0o600)
  t.teardown(() => closeSync(fa))
  const dropping = new RotatingLog(fa, { path: a, maxBytes: 1024, keep: 0 })
  for (let i = 0; i < 500; i++) dropping.write(`line ${i}\n`)
  t.notOk(existsSync(`${a}.1`))
  t.ok(statSync(a).size < 1024)

  const b = join(dir, 'b.log')
  const fb = openSync(b, 'a', 0o600)
  t.teardown(() => closeSync(fb))
  const never = new RotatingLog(fb, { path: b, maxBytes: 0, keep: 3 })
  for (let i = 0; i < 500; i++) never.write(`line ${i}\n`)
  t.equal(lines(b).length, 500)
  t.notOk(existsSync(`${b}.1`))

  const c = join(dir, 'c.log')
  const fc = openSync(c, 'a', 0o600)
  t.teardown(() => closeSync(fc))
  const log = createLogger({ level: 'info', fd: fc, rotate: { path: c, maxBytes: 2048, keep: 1 } })
  for (let i = 0; i < 200; i++) log.info({ n: i }, 'event')
  const all = [...lines(`${c}.1`), ...lines(c)].map(l => JSON.parse(l) as { n: number })
  t.equal(all.at(-1)?.n, 199, 'every line is whole JSON, the last one written last')
  t.notOk(existsSync(`${c}.2`))
})
