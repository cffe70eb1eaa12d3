// A wrong passphrase at a terminal prompt is asked for again, three tries in all; from
// $DMESS_PASSPHRASE or --passphrase-file it fails at once with one line. In-process through the
// prompt seam, then the built `dmess` on a real pseudo-terminal (util-linux `script`).
import t from 'tap'
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { errors } from '../../src/errors.js'
import { PROMPT_TRIES, withPassphrase, type PromptIo } from '../../src/cli/passphrase.js'
import { BIN, runCli, assertOneLineError } from '../helpers/cli.js'
import { UNLOCK_HINT } from '../../src/cli/store-command.js'
import { PW, quickHome } from '../helpers/profiles.js'

const RIGHT = 'the right one'

/** A terminal that answers the prompts with `answers`, one per prompt. */
function fakeTerminal (answers: string[]): PromptIo & { asked: number, said: string[] } {
  const io = {
    asked: 0,
    said: [] as string[],
    isTTY: () => true,
    prompt: async () => { const a = answers[io.asked++]; if (a === undefined) throw new Error('asked too often'); return a },
    say: (line: string) => { io.said.push(line) }
  }
  return io
}

const check = async (pass: string): Promise<string> => {
  if (pass !== RIGHT) throw errors.WRONG_PASSPHRASE('wrong passphrase for keystore')
  return 'unlocked'
}

t.test('a prompt asks again after a wrong passphrase, three tries in all', async t => {
  const delete_ = process.env.DMESS_PASSPHRASE
  delete process.env.DMESS_PASSPHRASE
  t.teardown(() => { if (delete_ !== undefined) process.env.DMESS_PASSPHRASE = delete_ })

  let io = fakeTerminal(['typo', 'typo again', RIGHT])
  t.equal(await withPassphrase({}, check, {}, io), 'unlocked', 'the third try opens')
  t.equal(io.asked, 3)
  t.same(io.said, ['Wrong passphrase; try again (2 tries left).', 'Wrong passphrase; try again (1 try left).'])

  io = fakeTerminal(['a', 'b', 'c', RIGHT])
  await t.rejects(withPassphrase({}, check, {}, io), { code: 'WRONG_PASSPHRASE', message: `wrong passphrase (${PROMPT_TRIES} tries)` })
  t.equal(io.asked, PROMPT_TRIES, 'no fourth prompt')

  io = fakeTerminal(['x'])
  await t.rejects(withPassphrase({}, async () => { throw errors.STORE_LOCKED('held') }, {}, io), { code: 'STORE_LOCKED' })
  t.equal(io.asked, 1, 'any other failure is not a reason to ask again')
})

t.test('$DMESS_PASSPHRASE and --passphrase-file fail at once', async t => {
  const home = await quickHome(t, 'alice')
  let uses = 0
  const counting = async (pass: string): Promise<string> => { uses++; return await check(pass) }
  const io = fakeTerminal([RIGHT])
  process.env.DMESS_PASSPHRASE = 'wrong'
  t.teardown(() => { delete process.env.DMESS_PASSPHRASE })
  await t.rejects(withPassphrase({}, counting, {}, io), { code: 'WRONG_PASSPHRASE' })
  delete process.env.DMESS_PASSPHRASE
  const file = join(home.home, 'pass.txt')
  await writeFile(file, 'wrong\n')
  await t.rejects(withPassphrase({ 'passphrase-file': file }, counting, {}, io), { code: 'WRONG_PASSPHRASE' })
  t.equal(uses, 2, 'one try each')
  t.equal(io.asked, 0, 'never prompted')

  const r = await runCli(['contacts', 'list', '--home', home.home], { env: { DMESS_PASSPHRASE: 'not it at all' } })
  assertOneLineError(t, r, /wrong passphrase/)
})

t.test('no passphrase and no terminal: one line naming every way, and a store command names dmess unlock', async t => {
  const saved = process.env.DMESS_PASSPHRASE
  delete process.env.DMESS_PASSPHRASE
  t.teardown(() => { if (saved !== undefined) process.env.DMESS_PASSPHRASE = saved })
  const io = { ...fakeTerminal([]), isTTY: () => false }
  t.notOk(process.stdin.isTTY, 'the test runs without a terminal on stdin')
  await t.rejects(withPassphrase({}, check, {}, io), { code: 'NO_PASSPHRASE', message: /^no passphrase: set DMESS_PASSPHRASE, pass --passphrase-file, or run in a terminal$/ })
  await t.rejects(withPassphrase({}, check, { hint: UNLOCK_HINT }, io), { code: 'NO_PASSPHRASE', message: /^no passphrase: set DMESS_PASSPHRASE, pass --passphrase-file, or run in a terminal; `dmess unlock` there once, and commands need none until it locks$/ })
  t.equal(io.asked, 0)
})

/**
 * Runs `dmess <args>` on a pseudo-terminal and types `answers`, one each time a prompt appears.
 * Returns what the terminal showed and the exit code (script -e passes the child's on).
 */
async function onTerminal (args: string[], answers: string[]): Promise<{ code: number | null, screen: string }> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DMESS_PASSPHRASE' && k !== 'DMESS_HOME') env[k] = v
  const cmd = [process.execPath, BIN, ...args].map(a => `'${a.replace(/'/g, "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let screen = ''
  let typed = 0
  const onOutput = (d: Buffer): void => {
    screen += d.toString()
    const prompts = screen.split('Passphrase: ').length - 1
    while (typed < prompts && typed < answers.length) child.stdin.write(`${answers[typed++] as string}\r`)
  }
  child.stdout.on('data', onOutput)
  child.stderr.on('data', onOutput)
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)))
  clearTimeout(timer)
  child.stdin.destroy()
  return { code, screen }
}

t.test('the built dmess on a terminal: two typos, then the right passphrase', async t => {
  const home = await quickHome(t, 'alice')
  let r = await onTerminal(['contacts', 'list', '--home', home.home], ['typo', 'typo again', PW.DMESS_PASSPHRASE])
  t.equal(r.code, 0, r.screen)
  t.equal(r.screen.split('Passphrase: ').length - 1, 3, 'asked three times')
  t.match(r.screen, /Wrong passphrase; try again \(2 tries left\)/)
  t.match(r.screen, /No contacts/)
  t.notMatch(r.screen, /typo/, 'nothing typed is echoed')

  r = await onTerminal(['contacts', 'list', '--home', home.home], ['a', 'b', 'c'])
  t.not(r.code, 0)
  t.match(r.screen, /Error: wrong passphrase \(3 tries\)/)
  t.notMatch(r.screen, /\n\s+at /, 'no stack trace')
})
