import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseConfigValue, defaultConfigText, loadConfig, setConfigValue, unsetConfigValue } from '../../src/config/config.js'
import { defaultConfig, CONFIG_SCHEMA } from '../../src/config/schema.js'
import { resolveHome } from '../../src/config/home.js'
import YAML from 'yaml'

t.test('values parse by type', async t => {
  t.equal(parseConfigValue('port', '0'), 0)
  t.equal(parseConfigValue('mdns', 'off'), false)
  t.same(parseConfigValue('bootstrap', ''), [])
  t.throws(() => parseConfigValue('port', '-1'), { code: 'BAD_CONFIG' })
  t.throws(() => parseConfigValue('port', '1e3'), { code: 'BAD_CONFIG' })
  t.throws(() => parseConfigValue('bootstrap', 'nohostport'), { code: 'BAD_CONFIG' })
  // what the daemon would refuse at start is refused when set
  t.throws(() => parseConfigValue('bootstrap', '1.2.3.4:99999'), { code: 'BAD_CONFIG', message: /port 1-65535/ })
  t.throws(() => parseConfigValue('bootstrap', '1.2.3.4:0'), { code: 'BAD_CONFIG' })
  t.same(parseConfigValue('bootstrap', '[::1]:65535'), ['[::1]:65535'])
  t.throws(() => parseConfigValue('host', 'my-laptop'), { code: 'BAD_CONFIG', message: /IP address/ })
  t.equal(parseConfigValue('host', '::'), '::')
  t.same(parseConfigValue('bootstrap', '203.0.113.7:47400, [2001:db8::1]:9'), ['203.0.113.7:47400', '[2001:db8::1]:9'])
  t.throws(() => parseConfigValue('bootstrap', '203.0.113.7:0'), { code: 'BAD_CONFIG' }, 'port 0: nobody to send to')
  t.throws(() => parseConfigValue('bootstrap', '203.0.113.7:47400,203.0.113.8:70000'), { code: 'BAD_CONFIG' }, 'past 65535')
  t.throws(() => parseConfigValue('logLevel', 'loud'), { code: 'BAD_CONFIG' })
  t.throws(() => parseConfigValue('name', 'x'.repeat(65)), { code: 'BAD_CONFIG' })
})

t.test('every default passes its own check and the commented file documents every key', async t => {
  const d = defaultConfig() as Record<string, unknown>
  const text = defaultConfigText()
  for (const [key, spec] of Object.entries(CONFIG_SCHEMA)) {
    t.ok(spec.check(d[key]), `default of ${key} is valid`)
    t.match(text, spec.doc)
  }
  t.same(YAML.parse(text), null, 'all lines are comments: defaults are not pinned in the file')
})

t.test('home resolution order', async t => {
  t.equal(resolveHome('/a/b', { DMESS_HOME: '/c' }), '/a/b')
  t.equal(resolveHome(undefined, { DMESS_HOME: '/c' }), '/c')
  t.equal(resolveHome(undefined, { XDG_DATA_HOME: '/x' }), '/x/dmess')
  t.match(resolveHome(undefined, {}), /\.local\/share\/dmess$/)
})

t.test('config set and unset keep the commented template and the user\'s own comments', async t => {
  const path = join(t.testdir(), 'config.yaml')
  await writeFile(path, defaultConfigText() + '# my own note\n')
  await setConfigValue(path, 'port', '47000')
  await setConfigValue(path, 'bootstrap', '10.0.0.1:47474')
  let text = await readFile(path, 'utf8')
  t.ok(text.startsWith(defaultConfigText()), 'the template is still there, untouched')
  t.match(text, /# my own note/)
  t.same((await loadConfig(path)).config.port, 47000)
  await unsetConfigValue(path, 'port')
  text = await readFile(path, 'utf8')
  t.match(text, /# UDP port the daemon listens on/)
  t.notMatch(text, /^port:/m)
  t.same((await loadConfig(path)).config.bootstrap, ['10.0.0.1:47474'])
  await writeFile(path, 'bootstrap: ["1.2.3.4:99999"]\n')
  await t.rejects(loadConfig(path), { code: 'BAD_CONFIG', message: /"bootstrap" has an invalid value/ }, 'a hand-edited bad entry is refused on read')
})
