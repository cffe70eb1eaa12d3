// A detached daemon's log is rotated by size as configured (logMaxBytes, logKeep in config.yaml):
// the real daemon process through the built binary, at logLevel trace so that starting and a few
// IPC calls fill 1 KiB files. Every kept line is whole JSON. The other commands (config, the
// status calls, stop) run in this process (test/helpers/cli-inproc.ts): a status call is a few ms
// of CPU there, ~0.3 s as a process.
import t from 'tap'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { cliHome, killDetachedOnTeardown, waitFor, PW } from '../daemon/helpers.js'

t.setTimeout(120_000)

t.test('daemon.log rotates at logMaxBytes and keeps logKeep files', async t => {
  const me = await cliHome(t)
  killDetachedOnTeardown(t, me.home)
  t.equal((await runCliInProcess(['config', 'set', 'logMaxBytes', '1024', '--home', me.home])).code, 0)
  t.equal((await runCliInProcess(['config', 'set', 'logKeep', '2', '--home', me.home])).code, 0)
  const bad = await runCliInProcess(['config', 'set', 'logMaxBytes', '10', '--home', me.home])
  t.match(bad.stderr, /at least 1024/, 'a size too small to hold a line is refused')
  await writeFile(join(me.home, 'config.yaml'), (await readFile(join(me.home, 'config.yaml'), 'utf8')) + 'logLevel: trace\nhost: 127.0.0.1\nport: 0\nmdns: false\n')
  const r = await runCli(['daemon', '--detach', '--home', me.home], { env: PW })
  t.equal(r.code, 0, r.stderr)
  const logs = async (): Promise<string[]> => (await readdir(me.home)).filter(f => f.startsWith('daemon.log')).sort()
  // each status call is traced by the daemon: call until two rotations happened (bounded)
  let calls = 0
  await waitFor(async () => {
    if ((await logs()).includes('daemon.log.2')) return true
    if (calls++ < 200) await runCliInProcess(['status', '--home', me.home])
    return false
  }, 90_000, () => `two rotations; files: ${calls} status calls`)
  t.equal((await runCliInProcess(['stop', '--home', me.home])).code, 0)
  t.same(await logs(), ['daemon.log', 'daemon.log.1', 'daemon.log.2'], 'the log and two rotated files, no third')
  for (const f of await logs()) {
    const text = await readFile(join(me.home, f), 'utf8')
    t.ok(Buffer.byteLength(text) < 32 * 1024, `${f} stays near 1 KiB (the limit plus at most one line)`)
    const bad = text.split('\n').filter(l => l !== '').filter(l => { try { JSON.parse(l); return false } catch { return true } })
    t.same(bad, [], `${f}: every line whole JSON`)
  }
})
