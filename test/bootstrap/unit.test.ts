// bootstrap/dmess-bootstrap.service parses as systemd reads it: `systemd-analyze verify` finds
// nothing wrong but the absent /usr/bin/dmess (not installed on a test machine), and it does flag
// a damaged copy — so the check can fail. Skipped, with the reason printed, where systemd is not
// installed (the unit is then described in bootstrap/README.md only).
import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const UNIT = join(dirname(fileURLToPath(import.meta.url)), '../../bootstrap/dmess-bootstrap.service')

/** Problems systemd-analyze reports, less the one about the binary not being installed here. */
async function verify (file: string): Promise<string[] | null> {
  return await new Promise(resolve => {
    execFile('systemd-analyze', ['verify', file], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(null)
      const lines = `${stdout}\n${stderr}`.split('\n').map(l => l.trim()).filter(l => l !== '')
      resolve(lines.filter(l => !/Command \/usr\/bin\/dmess is not executable/.test(l)))
    })
  })
}

t.test('the systemd unit verifies', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'dmess-unit-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const good = join(dir, 'dmess-bootstrap.service')
  await copyFile(UNIT, good)
  const problems = await verify(good)
  if (problems === null) {
    t.comment('systemd-analyze is not installed: the unit is not checked here (see bootstrap/README.md)')
    return
  }
  t.same(problems, [], 'no problems in bootstrap/dmess-bootstrap.service')
  const text = await readFile(UNIT, 'utf8')
  t.match(text, /^ExecStart=\/usr\/bin\/dmess bootstrap --host 0\.0\.0\.0 --port 47400/m, 'it runs `dmess bootstrap` on the documented port')
  const broken = join(dir, 'broken.service')
  await writeFile(broken, text.replace(/^Type=simple$/m, 'Type=simpel'))
  t.ok(((await verify(broken)) ?? []).some(l => /service type/.test(l)), 'a damaged copy is flagged')
})
