// Help that says what a command does and nothing twice: `send --help` gives --timeout's default
// once (oclif's "[default: 30]"), `bootstrap --help` offers no --home (it has no home to use).
import t from 'tap'
import { runCli } from '../helpers/cli.js'

t.test('send --help names the default once', async t => {
  const r = await runCli(['send', '--help'])
  t.equal(r.code, 0, r.stderr)
  const timeout = r.stdout.split('\n').filter(l => /--timeout/.test(l)).join(' ')
  t.equal((r.stdout.match(/default:? 30/g) ?? []).length, 1, `one default in: ${timeout}`)
})

t.test('bootstrap --help offers no --home, and --home is refused', async t => {
  const r = await runCli(['bootstrap', '--help'])
  t.equal(r.code, 0, r.stderr)
  t.notMatch(r.stdout, /--home/)
  const bad = await runCli(['bootstrap', '--home', '/tmp/x', '--port', '0'])
  t.not(bad.code, 0)
  t.match(bad.stderr, /Nonexistent flag: --home/)
})
