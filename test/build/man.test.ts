// The man pages (scripts/man-pages.mjs, a step of `npm run build`): one per command from the same
// metadata `dmess help` prints, plus the overview; package.json installs the directory; groff
// formats every page without a warning, and `man -l` renders one as a reader sees it.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT } from '../helpers/cli.js'
// @ts-expect-error a plain ES module script, without types
import { manPages } from '../../scripts/man-pages.mjs'

type Manifest = { commands: Record<string, { id: string, hidden?: boolean, flags: Record<string, { name: string, hidden?: boolean }> }> }

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

t.test('the build wrote a page for every command, and package.json installs them', async t => {
  const manifest = JSON.parse(await readFile(join(ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string, directories?: { man?: string }, files: string[] }
  t.equal(pkg.directories?.man, './man', 'directories.man')
  t.ok(pkg.files.includes('man'), 'shipped in the package')
  const pages = manPages(manifest, pkg.version) as Record<string, string>
  const visible = Object.values(manifest.commands).filter(c => !c.hidden)
  t.same(Object.keys(pages).sort(), ['dmess.1', ...visible.map(c => `dmess-${c.id.split(':').join('-')}.1`)].sort())
  t.same((await readdir(join(ROOT, 'man'))).sort(), Object.keys(pages).sort(), 'man/ holds exactly these (the build ran the generator)')
  for (const [file, text] of Object.entries(pages)) t.equal(await readFile(join(ROOT, 'man', file), 'utf8'), text, `${file} is current`)
})

t.test('groff formats every page without a warning; man -l renders dmess-send(1)', async t => {
  if (!has('groff')) {
    if (process.env.CI === 'true') t.fail('groff is not installed (.ci/run installs groff-base)')
    else t.plan(0, 'groff is not installed: cannot render man pages here')
    return
  }
  const files = (await readdir(join(ROOT, 'man'))).map(f => join(ROOT, 'man', f))
  // -ww: every warning; -Wbreak: a line too long to justify (a long flag name) is not a fault of the page
  const check = spawnSync('groff', ['-man', '-Tutf8', '-z', '-ww', '-Wbreak', ...files], { encoding: 'utf8' })
  t.equal(check.status, 0)
  t.equal(check.stderr, '', 'no warnings')

  const page = join(ROOT, 'man', 'dmess-send.1')
  // into a pipe, man-db leaves out bold and underline; groff is told to (-P-cbou)
  const env: NodeJS.ProcessEnv = { ...process.env, MANWIDTH: '80', LANG: 'C.UTF-8' }
  delete env.MAN_KEEP_FORMATTING
  const r = has('man')
    ? spawnSync('man', ['-l', page], { encoding: 'utf8', env })
    : spawnSync('groff', ['-man', '-Tutf8', '-P-cbou', page], { encoding: 'utf8', env })
  t.equal(r.status, 0, r.stderr)
  const text = r.stdout
  t.match(text, /^DMESS-SEND\(1\)/m, 'the title line')
  t.match(text, /NAME\n\s+dmess-send\s+-\s+Send\s+a\s+message\s+or\s+files\s+to\s+a\s+contact/, 'the name line from the description')
  t.match(text, /SYNOPSIS\n\s+dmess send CONTACT \[TEXT\] \[options\]/)
  t.match(text, /--wait sent\|delivered\|read\n\s+wait\s+until\s+the\s+message\s+is\s+delivered/, 'a flag with its values and text (lines justified)')
  t.match(text, /EXAMPLES\n\s+dmess send bob "see you at noon"/, 'examples with the real command name')
  t.match(text, /GLOBAL OPTIONS\n\s+--home value/)
})
