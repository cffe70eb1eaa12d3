// Help as terminal users expect it, through the built commands (run in this process:
// test/helpers/cli-inproc.ts; oclif's help and the command_not_found hook as the binary runs them): -h as --help on every command,
// `dmess help <command>`, and a "did you mean" line for a mistyped command or topic.
import t from 'tap'
import { assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { editDistance, nearest } from '../../src/cli/suggest.js'

t.test('edit distance and the nearest name', async t => {
  t.equal(editDistance('send', 'send'), 0)
  t.equal(editDistance('sned', 'send'), 1, 'two neighbours swapped is one edit')
  t.equal(editDistance('contcts', 'contacts'), 1)
  t.equal(editDistance('', 'abc'), 3)
  t.equal(editDistance('kitten', 'sitting'), 3)
  const names = ['send', 'search', 'status', 'stop', 'contacts', 'contacts list', 'contacts add', 'history']
  t.equal(nearest(['sned', 'bob'], names), 'send')
  t.equal(nearest(['contcts', 'list'], names), 'contacts list', 'a two-word command beats its topic')
  t.equal(nearest(['contacts', 'lst'], names), 'contacts list')
  t.equal(nearest(['contcts'], names), 'contacts')
  t.equal(nearest(['histroy', 'bob'], names), 'history')
  t.equal(nearest(['xyzzy'], names), undefined, 'nothing close: no guess')
  t.equal(nearest(['send'], names), undefined, 'an exact name is no typo')
})

t.test('-h, help <command>, did you mean', async t => {
  const long = await runCliInProcess(['contacts', 'add', '--help'])
  const short = await runCliInProcess(['contacts', 'add', '-h'])
  const cmd = await runCliInProcess(['help', 'contacts', 'add'])
  t.equal(long.code, 0)
  t.match(long.stdout, /Add a contact from an invite string/)
  t.equal(short.stdout, long.stdout, '-h prints what --help prints')
  t.equal(short.code, 0)
  t.equal(cmd.stdout, long.stdout, '`dmess help contacts add` too')
  t.match((await runCliInProcess(['send', '-h'])).stdout, /--message-file/, '-h on a command with a required argument')
  t.match((await runCliInProcess(['-h'])).stdout, /COMMANDS[\s\S]*send/, '`dmess -h` lists the commands')
  t.match((await runCliInProcess(['help'])).stdout, /COMMANDS[\s\S]*send/, '`dmess help` too')
  t.match((await runCliInProcess(['help', 'contacts'])).stdout, /contacts rename/, 'help on a topic lists its commands')

  assertOneLineError(t, await runCliInProcess(['contcts', 'list']), /^Error: "contcts list" is not a dmess command; did you mean "contacts list"\?\n$/)
  assertOneLineError(t, await runCliInProcess(['contacts', 'lst']), /did you mean "contacts list"\?/)
  assertOneLineError(t, await runCliInProcess(['sned', 'bob', 'hi']), /^Error: "sned" is not a dmess command; did you mean "send"\?\n$/)
  assertOneLineError(t, await runCliInProcess(['contcts']), /did you mean "contacts"\?/)
  assertOneLineError(t, await runCliInProcess(['help', 'histroy']), /"histroy" is not a dmess command; did you mean "history"\?/)
  const none = await runCliInProcess(['xyzzy'])
  assertOneLineError(t, none, /"xyzzy" is not a dmess command; `dmess help` lists them/)
  t.equal(none.code, 2, 'exit 2, as a usage error')
})
