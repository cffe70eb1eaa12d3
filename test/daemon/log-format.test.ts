// The daemon's log (src/daemon/log.ts): readable lines (time, level, message, key=value) for a
// person at a terminal, one JSON object per line otherwise; secrets and message bodies are
// redacted in both. Then the built `dmess daemon` on a pseudo-terminal (util-linux `script`)
// prints readable lines, and JSON with --log-format=json.
import t from 'tap'
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, textLine } from '../../src/daemon/log.js'
import { BIN, tempHome } from '../helpers/cli.js'
import { PW, quickHome } from '../helpers/profiles.js'

const SECRET = 'hunter2-correct-horse'
const BODY = 'meet me at the usual place'

async function logTo (t: Parameters<typeof tempHome>[0], format?: 'json' | 'text'): Promise<string> {
  const dir = await tempHome(t)
  const file = join(dir, 'log')
  const fd = openSync(file, 'w')
  const log = createLogger({ level: 'info', fd, ...(format === undefined ? {} : { format }) })
  log.info({ peer: 'abc123', count: 3, ok: true, address: '[2001:db8::1]:47474', name: 'bob smith' }, 'link up')
  log.warn({ passphrase: SECRET, text: BODY, nested: { dhSecret: SECRET, payload: BODY } }, 'careless caller')
  log.error({ err: 'line one\nline two' }, 'failed')
  closeSync(fd)
  return readFileSync(file, 'utf8')
}

t.test('text: one readable line per record, fields as key=value, nothing that could fake a line', async t => {
  const out = await logTo(t, 'text')
  const lines = out.trimEnd().split('\n')
  t.equal(lines.length, 3, out)
  t.match(lines[0], /^\d\d:\d\d:\d\d\.\d{3} INFO {2}link up peer=abc123 count=3 ok=true address=\[2001:db8::1\]:47474 name="bob smith"$/)
  t.match(lines[1], /^\S+ WARN {2}careless caller passphrase=\[redacted\] text=\[redacted\] nested=\{"dhSecret":"\[redacted\]","payload":"\[redacted\]"\}$/)
  t.match(lines[2], /ERROR failed err="line one\\nline two"$/, 'a line break in a value stays escaped')
  t.notMatch(out, /pid=|"level"/, 'no JSON bookkeeping')
})

t.test('json (and the default for a file): one object per line, redacted', async t => {
  for (const out of [await logTo(t, 'json'), await logTo(t)]) {
    const recs = out.trimEnd().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    t.same(recs.map(r => r.msg), ['link up', 'careless caller', 'failed'])
    t.equal(recs[1]?.passphrase, '[redacted]')
    t.notMatch(out, SECRET)
    t.notMatch(out, BODY)
  }
})

t.test('textLine: a line that is not JSON is shown quoted', async t => {
  t.equal(textLine('not json\n'), '"not json"')
})

/** `dmess daemon` in the foreground on a pseudo-terminal until it says it runs; then Ctrl-C (it logs its stop). */
async function foreground (args: string[]): Promise<string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...PW })) if (v !== undefined && k !== 'DMESS_HOME') env[k] = v
  const cmd = [process.execPath, BIN, 'daemon', ...args].map(a => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let screen = ''
  let stopping = false
  const onOutput = (d: Buffer): void => {
    screen += d.toString()
    if (!stopping && /Ctrl-C stops it/.test(screen)) {
      stopping = true
      child.stdin.write('\u0003')
    }
  }
  child.stdout.on('data', onOutput)
  child.stderr.on('data', onOutput)
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  await new Promise<void>(resolve => child.on('close', () => resolve()))
  clearTimeout(timer)
  return screen
}

t.test('dmess daemon at a terminal logs readable lines; --log-format=json logs JSON', async t => {
  const me = await quickHome(t, 'alice')
  const base = ['--home', me.home, '--host', '127.0.0.1', '--port', '0', '--no-mdns', '--no-portmap', '--bootstrap', '127.0.0.1:9']
  let screen = await foreground(base)
  t.match(screen, /\d\d:\d\d:\d\d\.\d{3} INFO {2}daemon stopping reason=SIGINT/, `readable lines: ${screen.slice(-600)}`)
  t.match(screen, /INFO {2}daemon stopped/)
  t.notMatch(screen, /\{"level"/, 'no JSON lines')
  screen = await foreground([...base, '--log-format', 'json'])
  t.match(screen, /\{"level":30,[^\n]*"msg":"daemon stopping"/, 'JSON lines when asked')
  t.notMatch(screen, /INFO {2}daemon/)
})
