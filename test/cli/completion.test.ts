// Shell completion: the engine on a small tree, then the real bash script from `dmess completion
// bash` sourced into a non-interactive bash, its function called with COMP_WORDS/COMP_CWORD set
// as bash sets them on Tab, against the built binary and a running daemon (contact names).
// zsh and fish scripts are parsed by those shells when they are installed.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { BIN, tempHome, assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { quickHome } from '../helpers/profiles.js'
import { startForeground, PW } from '../daemon/helpers.js'
import { complete, type CompletionTree } from '../../src/cli/complete.js'

t.setTimeout(120_000)

const TREE: CompletionTree = {
  topics: ['contacts'],
  commands: [
    { id: 'send', args: [{ name: 'contact' }, { name: 'text' }], flags: { home: { takesValue: true }, json: { takesValue: false }, wait: { takesValue: true, options: ['sent', 'delivered'] } } },
    { id: 'search', args: [{ name: 'query' }], flags: { contact: { takesValue: true } } },
    { id: 'status', args: [], flags: {} },
    { id: 'contacts:list', args: [], flags: { json: { takesValue: false } } },
    { id: 'contacts:rename', args: [{ name: 'contact' }, { name: 'name' }], flags: {} },
    { id: 'requests', args: [], flags: {} },
    { id: 'requests:accept', args: [{ name: 'fingerprint' }], flags: {} },
    { id: 'presence', args: [{ name: 'state', options: ['online', 'away'] }], flags: {} },
    { id: 'secret', hidden: true, args: [], flags: {} }
  ]
}

t.test('the engine', async t => {
  const contacts = async (): Promise<string[]> => ['bob', 'Bob Smith', 'carol', 'abcd1234']
  const words = async (w: string[]): Promise<string[]> => {
    const r = await complete(TREE, w, contacts)
    return r.kind === 'words' ? r.words : ['<files>']
  }
  t.same(await words(['s']), ['search', 'send', 'status'], 'commands by prefix; hidden ones left out')
  t.same(await words(['']), ['contacts', 'presence', 'requests', 'search', 'send', 'status'])
  t.same(await words(['contacts', '']), ['list', 'rename'], 'a topic: its commands')
  t.same(await words(['requests', '']), ['accept'], 'a command that is also a topic')
  t.same(await words(['send', 'b']), ['bob'], 'a contact argument: names (case matters, as in bash)')
  t.same(await words(['send', 'B']), ['Bob Smith'])
  t.same(await words(['send', 'ab']), ['abcd1234'], 'and fingerprints')
  t.same(await words(['send', 'bob', '']), [], 'the text: nothing to offer')
  t.same(await words(['send', '--json', 'c']), ['carol'], 'flags do not count as arguments')
  t.same(await words(['send', '--wait', 'sent', 'c']), ['carol'], 'nor their values')
  t.same(await words(['send', 'bob', '--']), ['--help', '--home', '--json', '--wait'])
  t.same(await words(['send', '--json', '--']), ['--help', '--home', '--wait'], 'a flag given once is not offered again')
  t.same(await words(['send', '--wait', '']), ['delivered', 'sent'], 'a flag\'s values')
  t.same(await words(['send', '--wait=d']), ['--wait=delivered'])
  t.same(await words(['send', '--home', '']), ['<files>'], 'a path flag: the shell completes files')
  t.same(await words(['search', '--contact', 'car']), ['carol'], 'a contact flag')
  t.same(await words(['contacts', 'rename', '']), ['Bob Smith', 'abcd1234', 'bob', 'carol'])
  t.same(await words(['presence', '']), ['away', 'online'], 'an argument\'s values')
  t.same(await words(['help', 'contacts', 'r']), ['rename'], '`help` completes command names')
  t.same(await words(['nosuch', '']), [])
})

/** A directory with `dmess` (the built binary) in it, for PATH. */
async function binDir (t: Parameters<typeof tempHome>[0]): Promise<string> {
  const dir = join(await tempHome(t), 'bin')
  await mkdir(dir)
  await symlink(BIN, join(dir, 'dmess'))
  return dir
}

/** Sources the script in a fresh bash, calls _dmess as bash would on Tab after `line`, returns COMPREPLY. */
function bashComplete (script: string, path: string, line: string[], env: Record<string, string> = {}): string[] {
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _dmess; printf "%s\\n" "${COMPREPLY[@]}"', 'bash', script, 'dmess', ...line], {
    env: { ...process.env, DMESS_HOME: '', ...env, PATH: `${path}:${dirname(process.execPath)}:/usr/bin:/bin` },
    encoding: 'utf8',
    timeout: 30_000
  })
  if (r.status !== 0) throw new Error(`bash exited ${r.status}: ${r.stderr}`)
  return r.stdout.split('\n').filter(l => l !== '')
}

t.test('bash: commands, flags and contact names from the running daemon', async t => {
  const alice = await quickHome(t, 'alice')
  const bob = await quickHome(t, 'bob')
  const carol = await quickHome(t, 'carol')
  const h = ['--home', alice.home]
  t.equal((await runCliInProcess(['contacts', 'add', bob.invite, '--name', 'Bob Smith', ...h], { env: PW })).code, 0)
  t.equal((await runCliInProcess(['contacts', 'add', carol.invite, '--name', '$(touch pwned)', ...h], { env: PW })).code, 0)
  const gen = await runCliInProcess(['completion', 'bash'])
  t.equal(gen.code, 0)
  const dir = await tempHome(t)
  const script = join(dir, 'dmess.bash')
  await writeFile(script, gen.stdout)
  const path = await binDir(t)

  t.same(bashComplete(script, path, ['con']), ['config', 'contacts'], 'a command')
  t.same(bashComplete(script, path, ['contacts', 're']), ['remove', 'rename'], 'a subcommand')
  t.same(bashComplete(script, path, ['send', 'x', '--wa']), ['--wait'], 'a flag')
  t.same(bashComplete(script, path, ['send', 'x', '--wait', 'd']), ['delivered'], 'a flag\'s value')
  t.same(bashComplete(script, path, ['send', ...h, 'B']), [], 'no daemon: no contact names (they are sealed at rest)')

  await startForeground(t, alice.home)
  t.same(bashComplete(script, path, ['send', ...h, 'B']), ['Bob\\ Smith'], 'a contact name, quoted for the shell, from the daemon')
  t.same(bashComplete(script, path, ['send', ...h, bob.fingerprint.slice(0, 6)]), [bob.fingerprint], 'a fingerprint prefix')
  t.same(bashComplete(script, path, ['history', 'B'], { DMESS_HOME: alice.home }), ['Bob\\ Smith'], 'the home from $DMESS_HOME without --home')
  t.same(bashComplete(script, path, ['send', ...h, '$']), ['\\$\\(touch\\ pwned\\)'], 'a name that looks like shell code is offered quoted')
  t.notOk(spawnSync('test', ['-e', join(dir, 'pwned')]).status === 0, 'and never run')
  const home = bashComplete(script, path, ['send', '--home', join(dir, 'dmess.b')])
  t.same(home, [join(dir, 'dmess.bash')], 'a path flag completes files')
})

t.test('zsh and fish scripts parse', async t => {
  for (const shell of ['zsh', 'fish'] as const) {
    const gen = await runCliInProcess(['completion', shell])
    t.equal(gen.code, 0)
    const have = spawnSync(shell, ['-c', 'exit 0']).status === 0
    if (!have) { t.comment(`${shell} is not installed: its script is not parsed`); continue }
    const dir = await tempHome(t)
    const file = join(dir, `dmess.${shell}`)
    await writeFile(file, gen.stdout)
    const r = spawnSync(shell, shell === 'zsh' ? ['-n', file] : ['--no-execute', file], { encoding: 'utf8' })
    t.equal(r.status, 0, `${shell} parses the script: ${r.stderr}`)
    if (shell === 'fish') {
      // fish completes a command line without a terminal: `complete -C`
      const path = await binDir(t)
      const c = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C 'dmess contacts re'; complete -C 'dmess send x --wait d'`], {
        encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH: `${path}:${dirname(process.execPath)}:/usr/bin:/bin` }
      })
      t.same(c.stdout.split('\n').filter(l => l !== ''), ['remove', 'rename', 'delivered'], 'fish completes a subcommand and a flag value')
    }
  }
  assertOneLineError(t, await runCliInProcess(['completion', 'tcsh']), /tcsh/)
})
