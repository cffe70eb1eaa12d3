// `dmess config` through the built commands in temporary homes, run in this process
// (test/helpers/cli-inproc.ts).
import t from 'tap'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { tempHome, assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'

t.test('config set/get/list/unset', async t => {
  const home = await tempHome(t)
  let r = await runCliInProcess(['config', 'get', 'port', '--home', home])
  t.equal(r.code, 0)
  t.equal(r.stdout.trim(), '47474', 'default port before anything is set')

  r = await runCliInProcess(['config', 'set', 'port', '40000', '--home', home])
  t.equal(r.code, 0, r.stderr)
  r = await runCliInProcess(['config', 'get', 'port', '--home', home, '--json'])
  t.equal(JSON.parse(r.stdout), 40000)
  t.equal((await stat(join(home, 'config.yaml'))).mode & 0o777, 0o600, 'config file is private')

  r = await runCliInProcess(['config', 'set', 'bootstrap', '127.0.0.1:1,[::1]:2', '--home', home])
  t.equal(r.code, 0, r.stderr)
  r = await runCliInProcess(['config', 'list', '--json', '--home', home])
  const list = JSON.parse(r.stdout) as { keys: Array<{ key: string, value: unknown, set: boolean }> }
  t.same(list.keys.find(k => k.key === 'bootstrap')?.value, ['127.0.0.1:1', '[::1]:2'])
  t.equal(list.keys.find(k => k.key === 'mdns')?.set, false)

  r = await runCliInProcess(['config', 'unset', 'port', '--home', home])
  t.equal(r.code, 0)
  r = await runCliInProcess(['config', 'get', 'port', '--home', home])
  t.equal(r.stdout.trim(), '47474')
  t.notMatch(await readFile(join(home, 'config.yaml'), 'utf8'), /port/)
})

t.test('DMESS_HOME is used when --home is absent', async t => {
  const home = await tempHome(t)
  const r = await runCliInProcess(['config', 'set', 'name', 'alice'], { env: { DMESS_HOME: home } })
  t.equal(r.code, 0, r.stderr)
  t.match(await readFile(join(home, 'config.yaml'), 'utf8'), /name: alice/)
})

t.test('config errors are one line and exit non-zero', async t => {
  const home = await tempHome(t)
  assertOneLineError(t, await runCliInProcess(['config', 'set', 'port', '99999', '--home', home]), /UDP port/)
  assertOneLineError(t, await runCliInProcess(['config', 'get', 'nope', '--home', home]), /unknown config key/)
  assertOneLineError(t, await runCliInProcess(['config', 'set', 'mdns', 'maybe', '--home', home]), /true or false/)
  assertOneLineError(t, await runCliInProcess(['config', 'get', '--home', home]), /Missing 1 required arg/)
})

t.test('a broken config file is reported in one line', async t => {
  const home = await tempHome(t)
  await runCliInProcess(['config', 'set', 'name', 'x', '--home', home])
  const { writeFile } = await import('node:fs/promises')
  await writeFile(join(home, 'config.yaml'), 'port: [unclosed\n')
  assertOneLineError(t, await runCliInProcess(['config', 'list', '--home', home]), /not valid YAML/)
  await writeFile(join(home, 'config.yaml'), 'port: "abc"\n')
  assertOneLineError(t, await runCliInProcess(['config', 'get', 'port', '--home', home]), /invalid value/)
})
