import t from 'tap'
import { parseConfigValue, defaultConfigText } from '../../src/config/config.js'
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
