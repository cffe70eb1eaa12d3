// A missing argument is never taken from piped stdin (oclif would fill it with whatever arrived
// within 10 ms): the command gives the usual one-line "Missing 1 required arg" error and does nothing.
// `dmess send` reads stdin itself (test/daemon/cli.test.ts covers `… | dmess send bob`).
import t from 'tap'
import { runCli, tempHome, assertOneLineError } from '../helpers/cli.js'
import { PW, quickHome } from '../helpers/profiles.js'

t.test('a missing argument with stdin piped: the missing-argument error, nothing done', async t => {
  const empty = await tempHome(t)
  const r = await runCli(['config', 'get', '--home', empty], { input: 'port\n' })
  assertOneLineError(t, r, /Missing 1 required arg: key/)
  t.equal(r.stdout, '', 'no value printed')

  const alice = await quickHome(t, 'alice')
  const bob = await quickHome(t, 'bob')
  const h = ['--home', alice.home]
  t.equal((await runCli(['contacts', 'add', bob.invite, '--name', 'bob', ...h], { env: PW })).code, 0)
  assertOneLineError(t, await runCli(['contacts', 'remove', ...h], { env: PW, input: 'bob\n' }), /Missing 1 required arg: contact/)
  const list = await runCli(['contacts', 'list', '--json', ...h], { env: PW })
  t.same((JSON.parse(list.stdout) as Array<{ name: string }>).map(c => c.name), ['bob'], 'bob is still a contact')

  // `help` with no argument is the overview, whatever is piped in
  const help = await runCli(['help'], { input: 'config\n' })
  t.equal(help.code, 0)
  t.match(help.stdout, /TOPICS/)
  t.notMatch(help.stdout, /dmess config COMMAND/, 'not the help of the topic on stdin')
})
