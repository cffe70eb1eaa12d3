// `dmess service install|uninstall|status` through the built commands (run in this process:
// test/helpers/cli-inproc.ts; the unit names bin/run.js all the same), with a temporary
// XDG_CONFIG_HOME and a stand-in `systemctl` on PATH that records what it is asked (the real
// one is never run here): the unit's content, that installing twice changes nothing, what
// systemctl is told, and the one-line refusals. systemd-analyze checks the unit where installed.
import t from 'tap'
import { execFile } from 'node:child_process'
import { chmod, mkdir, readFile, writeFile, access } from 'node:fs/promises'
import { join } from 'node:path'
import { BIN, tempHome, assertOneLineError } from '../helpers/cli.js'
import { runCliInProcess } from '../helpers/cli-inproc.js'
import { quickHome } from '../helpers/profiles.js'
import { unitWord, unitText } from '../../src/cli/systemd-unit.js'

t.setTimeout(120_000)

t.test('unit words are quoted as systemd reads them', async t => {
  t.equal(unitWord('/usr/bin/node'), '/usr/bin/node')
  t.equal(unitWord('/home/a b/dmess'), '"/home/a b/dmess"')
  t.equal(unitWord('/x/100%/$HOME'), '"/x/100%%/$$HOME"', 'no specifier or variable expanded')
  t.equal(unitWord('/x/"q"\\'), '"/x/\\"q\\"\\\\"')
  t.throws(() => unitText({ node: '/n', bin: '/b', home: '/h\nExecStartPre=/bin/evil', passphraseFile: '/p' }), /line break/)
})

async function systemdAnalyze (file: string): Promise<string[] | null> {
  return await new Promise(resolve => {
    execFile('systemd-analyze', ['verify', file], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(null)
      resolve(`${stdout}\n${stderr}`.split('\n').map(l => l.trim()).filter(l => l !== ''))
    })
  })
}

t.test('install, install again, status, uninstall', async t => {
  const alice = await quickHome(t, 'alice')
  const dir = await tempHome(t)
  const config = join(dir, 'config')
  const fake = join(dir, 'fakebin')
  const calls = join(dir, 'calls')
  await mkdir(fake)
  // answers is-enabled/is-active as systemd does for an enabled, running unit
  await writeFile(join(fake, 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\ncase "$2" in is-enabled) echo enabled;; is-active) echo active;; esac\n`)
  await chmod(join(fake, 'systemctl'), 0o755)
  const pw = join(dir, 'pass phrase')
  await writeFile(pw, 'correct horse battery staple\n', { mode: 0o600 })
  const env = { XDG_CONFIG_HOME: config, PATH: fake }
  const h = ['--home', alice.home]
  const unit = join(config, 'systemd', 'user', 'dmess.service')

  const first = await runCliInProcess(['service', 'install', '--passphrase-file', pw, ...h], { env })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, `Wrote ${unit}`)
  t.match(first.stdout, /Enabled and started dmess\.service/)
  const text = await readFile(unit, 'utf8')
  t.match(text, new RegExp(`^ExecStart=${process.execPath} ${BIN} daemon --home ${alice.home} --passphrase-file %d/dmess-passphrase$`, 'm'), 'node and bin/run.js by absolute path, the home, the passphrase from the credential')
  t.match(text, `\nLoadCredential=dmess-passphrase:${pw}\n`, 'the passphrase file as a systemd credential')
  t.match(text, /\nRestart=on-failure\n/)
  t.match(text, /\nWantedBy=default\.target\n/)
  t.notMatch(text, /correct horse/, 'the passphrase itself is not in the unit')
  t.same((await readFile(calls, 'utf8')).trim().split('\n'), ['--user daemon-reload', '--user enable --now dmess.service', '--user try-restart dmess.service'])

  const again = await runCliInProcess(['service', 'install', '--passphrase-file', pw, ...h], { env })
  t.equal(again.code, 0)
  t.match(again.stdout, `Unchanged: ${unit}`, 'installing twice changes nothing')
  t.equal(await readFile(unit, 'utf8'), text)

  t.same(JSON.parse((await runCliInProcess(['service', 'status', '--json'], { env })).stdout), { unit, installed: true, enabled: 'enabled', active: 'active' })

  const verified = await systemdAnalyze(unit)
  if (verified === null) t.comment('systemd-analyze is not installed: the unit is not verified here')
  else t.same(verified, [], 'systemd-analyze verify finds nothing wrong')

  await writeFile(calls, '')
  const gone = await runCliInProcess(['service', 'uninstall'], { env })
  t.equal(gone.code, 0)
  t.match(gone.stdout, `Removed ${unit}`)
  t.notOk(await access(unit).then(() => true, () => false), 'the unit is gone')
  t.same((await readFile(calls, 'utf8')).trim().split('\n'), ['--user disable --now dmess.service', '--user daemon-reload'])
  t.match((await runCliInProcess(['service', 'uninstall'], { env })).stdout, /Not installed/, 'uninstalling twice is fine')

  // no systemctl: the unit is written and the commands to run are printed
  const none = { XDG_CONFIG_HOME: config, PATH: join(dir, 'empty') }
  const bare = await runCliInProcess(['service', 'install', '--passphrase-file', pw, ...h], { env: none })
  t.equal(bare.code, 0)
  t.match(bare.stdout, /systemctl --user daemon-reload && systemctl --user enable --now dmess\.service/)
  t.equal(await readFile(unit, 'utf8'), text, 'the same unit')
  t.same(JSON.parse((await runCliInProcess(['service', 'status', '--json'], { env: none })).stdout), { unit, installed: true, enabled: null, active: null })
})

t.test('refusals: one line', async t => {
  const alice = await quickHome(t, 'alice')
  const dir = await tempHome(t)
  const env = { XDG_CONFIG_HOME: join(dir, 'config'), PATH: join(dir, 'empty') }
  const open = join(dir, 'pw')
  await writeFile(open, 'correct horse battery staple', { mode: 0o644 })
  await chmod(open, 0o644)
  assertOneLineError(t, await runCliInProcess(['service', 'install', '--passphrase-file', open, '--home', alice.home], { env }), /can be read by others \(mode 644\); chmod 600 it first/)
  assertOneLineError(t, await runCliInProcess(['service', 'install', '--passphrase-file', join(dir, 'none'), '--home', alice.home], { env }), /cannot read the passphrase file/)
  const wrong = join(dir, 'wrong')
  await writeFile(wrong, 'not the passphrase\n', { mode: 0o600 })
  assertOneLineError(t, await runCliInProcess(['service', 'install', '--passphrase-file', wrong, '--home', alice.home], { env }), /wrong passphrase/)
  assertOneLineError(t, await runCliInProcess(['service', 'install', '--passphrase-file', open, '--home', join(dir, 'nohome')], { env }), /no identity/)
  assertOneLineError(t, await runCliInProcess(['service', 'install', '--home', alice.home], { env }), /passphrase-file/)
  t.notOk(await access(join(dir, 'config')).then(() => true, () => false), 'nothing written')
})
