// `npm test` (scripts/run-tests.mjs): when it skips the build, and what its closing line says.
import t from 'tap'
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { coverageReport } from '../../scripts/coverage-report.mjs'
import { clearStamp, inputFiles, inputsHash, isUpToDate, REPO_ROOT, writeStamp } from '../../scripts/build-stamp.mjs'
import { coverageShortfall, parseCounts, parseCoverage, parseThresholds, verdict } from '../../scripts/test-verdict.mjs'
import { allTestFiles, fastFiles, slowFilesIn, SLOW } from '../../scripts/test-groups.mjs'
import { batches, failureRecap, judgeBatch, report, runSuite, schedule } from '../../scripts/suite-run.mjs'

function fakeRepo (dir: string): void {
  for (const d of ['src/crypto', 'commands', 'scripts', 'test', 'dist']) mkdirSync(join(dir, d), { recursive: true })
  writeFileSync(join(dir, 'src/crypto/a.ts'), 'export const a = 1\n')
  writeFileSync(join(dir, 'commands/send.ts'), 'export default 1\n')
  writeFileSync(join(dir, 'scripts/bundle.ts'), '// bundle\n')
  writeFileSync(join(dir, 'scripts/other.ts'), '// not read by the build\n')
  writeFileSync(join(dir, 'package.json'), '{"name":"x"}\n')
  writeFileSync(join(dir, 'tsconfig.json'), '{}\n')
  writeFileSync(join(dir, 'tsconfig.check.json'), '{}\n')
  writeFileSync(join(dir, 'test/a.test.ts'), '// a test\n')
}

t.test('the build stamp changes when an input changes, and only then', async t => {
  const dir = t.testdir()
  fakeRepo(dir)
  t.same(inputFiles(dir), ['commands/send.ts', 'package.json', 'scripts/bundle.ts', 'src/crypto/a.ts', 'tsconfig.check.json', 'tsconfig.json'])
  const h0 = inputsHash(dir)
  t.match(h0, /^[0-9a-f]{64}$/)
  t.notOk(isUpToDate(dir), 'never built: not up to date')
  writeStamp(dir)
  t.ok(isUpToDate(dir), 'just built: up to date')

  utimesSync(join(dir, 'src/crypto/a.ts'), new Date(2001, 1, 1), new Date(2001, 1, 1))
  writeFileSync(join(dir, 'test/a.test.ts'), '// edited test\n')
  writeFileSync(join(dir, 'scripts/other.ts'), '// edited, not an input\n')
  mkdirSync(join(dir, 'dist/src'), { recursive: true })
  writeFileSync(join(dir, 'dist/src/a.js'), 'output')
  t.equal(inputsHash(dir), h0, 'new mtimes (a fresh clone), tests, other scripts and dist/ itself do not count')
  t.ok(isUpToDate(dir))

  writeFileSync(join(dir, 'src/crypto/a.ts'), 'export const a = 2\n')
  const h1 = inputsHash(dir)
  t.not(h1, h0, 'an edit to src/ changes it')
  t.notOk(isUpToDate(dir), 'and asks for a rebuild')
  writeFileSync(join(dir, 'src/crypto/a.ts'), 'export const a = 1\n')
  t.equal(inputsHash(dir), h0, 'the content, not the history: undoing the edit undoes the change')

  for (const [file, text] of [['commands/new.ts', 'x'], ['scripts/bundle.ts', '// changed'], ['tsconfig.json', '{"x":1}'], ['package.json', '{}'], ['tsconfig.base.json', '{}']] as const) {
    const before = inputsHash(dir)
    writeFileSync(join(dir, file), text)
    t.not(inputsHash(dir), before, `${file} is an input`)
  }
  // Moving bytes from one file to another is a change: each file's path and length are hashed.
  writeFileSync(join(dir, 'commands/send.ts'), 'ab')
  writeFileSync(join(dir, 'commands/new.ts'), 'c')
  const split = inputsHash(dir)
  writeFileSync(join(dir, 'commands/send.ts'), 'a')
  writeFileSync(join(dir, 'commands/new.ts'), 'bc')
  t.not(inputsHash(dir), split)

  writeStamp(dir)
  t.ok(isUpToDate(dir))
  clearStamp(dir)
  t.notOk(isUpToDate(dir), 'a build that starts clears it: an interrupted build is never taken as done')
})

t.test('the repository\'s build reads what the stamp hashes', async t => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  const build = pkg.scripts.build as string
  t.match(build, /^node scripts\/build-stamp\.mjs clear && /, 'the stamp goes first')
  t.match(build, / && node scripts\/build-stamp\.mjs write$/, 'and is written last')
  const files = inputFiles(REPO_ROOT)
  for (const f of ['package.json', 'tsconfig.json', 'scripts/bundle.ts', 'scripts/oclif-manifest.mjs']) t.ok(files.includes(f), f)
  t.ok(files.some(f => f.startsWith('src/')) && files.some(f => f.startsWith('commands/')))
})

const FILES_OK = [
  'TAP version 14',
  'ok 1 - test/a.test.ts # time=10ms',
  'ok 2 - test/b.test.ts # time=12ms',
  ''
].join('\n')
const TABLE = (stmts: string, branch: string) => [
  '--------------|---------|----------|---------|---------|-------------------',
  'File          | % Stmts | % Branch | % Funcs | % Lines | Uncovered Line #s ',
  '--------------|---------|----------|---------|---------|-------------------',
  `All files     |   ${stmts} |    ${branch} |    90.2 |   ${stmts} |                   `,
  ' src          |   97.77 |      100 |      75 |   97.77 |                   ',
  ''
].join('\n')
const TAPRC = 'include:\n  - "test/**/*.test.ts"\n# Measured: 91.9 / 85.7\nstatements: 88\nbranches: 82 # never lower\nfunctions: 86\nlines: 88\n'

t.test('parsing what tap prints', async t => {
  t.same(parseCounts(FILES_OK + '# { total: 12, pass: 11, fail: 1 }\n# time=1ms\n'), { total: 12, pass: 11, fail: 1, skip: 0, todo: 0 })
  t.same(parseCounts('# { total: 5, pass: 3, skip: 1, todo: 1 }\n'), { total: 5, pass: 3, fail: 0, skip: 1, todo: 1 })
  t.equal(parseCounts(FILES_OK), undefined, 'no summary')
  t.same(parseThresholds(TAPRC), { statements: 88, branches: 82, functions: 86, lines: 88 })
  t.same(parseCoverage(TABLE('91.93', '81.2')), { statements: 91.93, branches: 81.2, functions: 90.2, lines: 91.93 })
  t.equal(parseCoverage(FILES_OK), undefined)
  t.same(coverageShortfall(parseCoverage(TABLE('87.5', '81.2')), parseThresholds(TAPRC)), ['statements 87.5% < 88%', 'branches 81.2% < 82%', 'lines 87.5% < 88%'])
  t.same(coverageShortfall(parseCoverage(TABLE('88', '82')), parseThresholds(TAPRC)), [], 'at the threshold is enough')
})

t.test('the closing line', async t => {
  const thresholds = parseThresholds(TAPRC)
  const summary = '# { total: 13310, pass: 13310 }\n'
  let v = verdict({ output: FILES_OK + TABLE('91.93', '85.71') + summary, code: 0, signal: null, thresholds })
  t.same(v, { line: '13310 passed, 0 failed (of 13310)', exitCode: 0 }, 'a clean run')

  v = verdict({ output: FILES_OK + TABLE('91.93', '81.2') + summary, code: 1, signal: null, thresholds })
  t.same(v, { line: '13310 passed, 1 failed (of 13310 tests and the coverage check: below threshold: branches 81.2% < 82%)', exitCode: 1 }, 'coverage below a threshold: counted as a failure, named, and still exit 1')

  v = verdict({ output: FILES_OK + '# No coverage generated\n' + summary, code: 1, signal: null, thresholds })
  t.same(v, { line: '13310 passed, 1 failed (of 13310 tests and the coverage check: no coverage generated)', exitCode: 1 })

  v = verdict({ output: FILES_OK + TABLE('91.93', '85.71') + summary, code: 2, signal: null, thresholds })
  t.same(v, { line: '13310 passed, 1 failed (of 13310 tests; tap exited with code 2)', exitCode: 2 }, 'any other non-zero exit is named too')
  v = verdict({ output: FILES_OK + summary, code: null, signal: 'SIGTERM', thresholds })
  t.same(v, { line: '13310 passed, 1 failed (of 13310 tests; tap was killed by SIGTERM)', exitCode: 1 })

  v = verdict({ output: 'not ok 1 - test/a.test.ts\n# { total: 20, pass: 17, fail: 2, skip: 1 }\n', code: 1, signal: null, thresholds })
  t.same(v, { line: '17 passed, 2 failed, 1 skipped (of 20)', exitCode: 1 }, 'failures speak for themselves')

  v = verdict({ output: FILES_OK, code: 1, signal: null, thresholds })
  t.same(v, { line: '0 passed, 1 failed (tap printed no summary; it exited with code 1)', exitCode: 1 })
  v = verdict({ output: FILES_OK, code: 0, signal: null, thresholds })
  t.equal(v.exitCode, 1, 'no summary is never a pass')

  v = verdict({ output: FILES_OK + '# No coverage generated\n' + '# { total: 900, pass: 900 }\n', code: 0, signal: null, thresholds, coverageChecked: false })
  t.same(v, { line: '900 passed, 0 failed (of 900); coverage not checked (--fast)', exitCode: 0 }, '--fast says it skipped the coverage check')
})

t.test('--fast: the slow list names files that exist, and no fast file starts a process', async t => {
  const all = allTestFiles()
  for (const entry of SLOW) t.ok(entry.endsWith('/') ? all.some(f => f.startsWith(entry)) : all.includes(entry), `${entry} exists`)
  const fast = fastFiles()
  t.same([...fast, ...slowFilesIn()].sort(), all, 'every file is fast or slow')
  t.ok(fast.includes('test/build/runner.test.ts') && !fast.includes('test/cli/config.test.ts'))
  t.same(fastFiles(['test/cli']), [], 'a slow directory has no fast file')
  t.same(fastFiles(['test/wire/packet.test.ts']), ['test/wire/packet.test.ts'])
  // What starts another process or a namespace, or runs the built commands (they need a build):
  // a fast file using any of it belongs in SLOW.
  const starts = /node:child_process|\brunCli\(|\brunCliInProcess\(|\binitHome\(|\bcliHome\(|\bstartForeground\(|\bspawn(Peer|ReliablePeer|Fixture|Json)\(|scripts\/lab\//
  for (const f of fast.filter(f => f !== 'test/build/runner.test.ts')) t.notMatch(readFileSync(join(REPO_ROOT, f), 'utf8'), starts, `${f} starts no process`)
})

t.test('batches: which file failed, how long each took, how many tests it ran; the longest first', async t => {
  t.same(batches(['a', 'b', 'c', 'd', 'e'], 2), [['a', 'b', 'c'], ['d', 'e']], 'in order, about equal')
  t.same(batches(['a'], 4), [['a']])
  const files = ['test/a.test.ts', 'test/b.test.ts', 'test/c.test.ts']
  const out = [
    'TAP version 14',
    'ok 1 - a works # time=1ms',
    'ok 2 - test/a.test.ts done # time=0.2ms',
    'not ok 3 - b breaks # time=3ms',
    'ok 4 - b otherwise # time=1ms',
    'ok 5 - test/b.test.ts done # time=0.1ms',
    '    not ok 1 - nested: counted by its parent above',
    'ok 6 - c works # time=1ms'
  ].join('\n')
  const err = 'dmess-suite-done 12 test/a.test.ts 4 3 0 1 0\ndmess-suite-done 30 test/b.test.ts 2 1 1 0 0\n'
  const j = judgeBatch(files, out, err)
  t.same([...j.passed], [['test/a.test.ts', { ms: 12, counts: { total: 4, pass: 3, fail: 0, skip: 1, todo: 0 } }]], 'a passed in 12 ms, with its counts')
  t.same([...j.failed], ['test/b.test.ts'], 'b failed; c never reached its marker')
  t.same([...judgeBatch(files, out + '\nnot ok 7 - c breaks', err).failed], ['test/b.test.ts', 'test/c.test.ts'], 'a failure after the last marker is the next file\'s')
  t.same(report(2, { file: 'test/a.test.ts', ok: true, ms: 12, why: '', out: 'x' }), 'ok 2 - test/a.test.ts # time=12ms\n')
  t.match(report(3, { file: 'test/b.test.ts', ok: false, ms: 30, why: 'exit code 1', out: 'not ok 1 - b breaks' }), /^not ok 3 - test\/b.test.ts # time=30ms\n {2}# test\/b.test.ts: exit code 1\n {2}not ok 1 - b breaks\n$/)

  const failedOut = ['# Subtest: x', '    not ok 1 - the peer answers', '      ---', '      at:', '        fileName: test/b.test.ts', '      found: 0', '      wanted: 1', '      ...', '    ok 2 - fine', 'not ok 1 - x'].join('\n')
  t.same(failureRecap([{ file: 'test/a.test.ts', ok: true, ms: 1, why: '', out: '' }, { file: 'test/b.test.ts', ok: false, ms: 30, why: 'exit code 1', out: failedOut }]),
    '# failed: test/b.test.ts (exit code 1)\n#   not ok 1 - the peer answers\n#     found: 0\n#     wanted: 1\n#   not ok 1 - x\n', 'the tail of the log names the failed file and what it asserted')
  const plan = schedule(['f1', 'f2', 'f3', 'f4'], ['s1', 's2'], { perBatch: 2, durations: { f1: 1_000, f2: 1_000, f3: 100, s1: 500, s2: 20_000 }, unknownMs: 50 })
  t.same(plan.map(p => [p.files, p.alone, p.ms]), [[['s2'], true, 20_000], [['f1', 'f2'], false, 2_000], [['s1'], true, 500], [['f3', 'f4'], false, 150]], 'slow files alone, the rest in batches, longest expected first')
})

t.test('the runner on real files: a failure, a crash that ends its batch, a file that fails only after another, a slow file alone, and coverage', async t => {
  const tap = `import t from ${JSON.stringify(join(REPO_ROOT, 'node_modules/tap/dist/esm/index.js'))}\n`
  const lib = pathToFileURL(join(REPO_ROOT, 'src/runtime/bounded-cache.ts')).href
  const dir = t.testdir({
    'a.test.mjs': tap + "globalThis.dirty = true\nt.test('a', async t => { t.pass('a is fine'); t.pass('twice') })\n",
    'b.test.mjs': tap + "t.test('b', async t => { t.equal(1, 2, 'b is wrong') })\n",
    'c.test.mjs': tap + "t.test('c', async t => { t.notOk(globalThis.dirty, 'c wants a clean process') })\n",
    'd.test.mjs': tap + "t.test('d', async t => { t.pass('d') })\nprocess.exit(3)\n",
    'e.test.mjs': tap + "t.test('e', async t => { t.pass('e is fine') })\n",
    's.test.mjs': tap + `import { BoundedCache } from ${JSON.stringify(lib)}\nt.test('s', async t => { t.ok(new BoundedCache(2), 'alone, and it ran src/'); t.notOk(globalThis.dirty) })\n`
  })
  const files = ['a', 'b', 'c', 'd', 'e'].map(n => join(dir, `${n}.test.mjs`))
  const coverageDir = join(dir, 'coverage')
  let printed = ''
  const r = await runSuite(files, { alone: [join(dir, 's.test.mjs')], jobs: 1, perBatch: 5, timeoutMs: 60_000, cwd: REPO_ROOT, coverageDir, durations: {}, write: s => { printed += s } })
  const ok = Object.fromEntries(r.results.map(x => [x.file.slice(dir.length + 1, -'.test.mjs'.length), x.ok]))
  t.same(ok, { a: true, b: false, c: false, d: false, e: true, s: true }, 'a, e (alone, after d ended the batch) and s pass; b, c and d fail')
  t.same({ files: r.files, failedFiles: r.failedFiles }, { files: 6, failedFiles: 3 })
  t.same({ total: r.total, pass: r.pass, fail: r.fail }, { total: 10, pass: 7, fail: 3 }, 'tests counted: a 2, b 1 failed, c 1 + 1 for failing only after a, d 1 passed + 1 for its exit, e 1, s 2')
  const byName = (n: string) => r.results.find(x => x.file.endsWith(`/${n}.test.mjs`))!
  t.match(byName('b').out, /b is wrong/, 'b\'s own output')
  t.match(byName('c').why, /passes alone: it depends on process state/, 'c is named for what it is')
  t.match(byName('d').why, /exit code [13]/, 'd\'s exit')
  t.match(printed, /^TAP version 14\n/)
  t.match(printed, /\n1\.\.6\n# 3 of 6 files passed\n# \{ total: 10, pass: 7, fail: 3 \}\n$/)
  t.same(parseCounts(printed), { total: 10, pass: 7, fail: 3, skip: 0, todo: 0 }, 'the closing line reads it as tap\'s')
  const totals = await coverageReport(coverageDir, { write: () => {} })
  t.ok(totals !== undefined && totals.functions > 0 && totals.functions < 100, 'the src/ module the slow file ran is in the coverage, partly run')
})
