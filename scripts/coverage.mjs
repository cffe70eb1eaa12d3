// Coverage for `npm test` (scripts/suite-run.mjs), loaded with --import into each test process
// when DMESS_COVERAGE_DIR names a directory. V8's precise coverage (block level, with counts) is
// started through the inspector before the test file loads, and at exit what the process ran of
// the sources under src/ is written to that directory as one JSON file in the format of
// NODE_V8_COVERAGE (`result` plus `source-map-cache`), which c8 reports on
// (scripts/coverage-report.mjs). The modules are TypeScript transformed by scripts/ts-loader.mjs
// with inline source maps (line-preserving), and node keeps those maps when started with
// --enable-source-maps: the report is per line of the .ts sources.
//
// Why not tap's own coverage (@tapjs/processinfo): it registers a second off-thread module loader
// that reads and posts every loaded file, node_modules included, to the main thread. Loading the
// daemon's module graph took 0.7 s of CPU without hooks, 2.2 s under it. And why not
// NODE_V8_COVERAGE: children inherit it, and the daemons and commands tests start would measure
// and write coverage nobody reads. The variable is removed here, so children never see it.
import { Session } from 'node:inspector'
import { mkdirSync, writeFileSync } from 'node:fs'
import { findSourceMap } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const dir = process.env.DMESS_COVERAGE_DIR
delete process.env.DMESS_COVERAGE_DIR

if (dir) {
  // Only the library's sources are reported (the suite's coverage is of src/, as .taprc's
  // coverage-exclude had it): tests, scripts, commands, dist and node_modules are left out.
  const src = pathToFileURL(resolve('src')).href + '/'
  const session = new Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true })
  process.on('exit', () => {
    // The inspector answers a same-thread session synchronously: the file is written before exit.
    session.post('Profiler.takePreciseCoverage', (error, coverage) => {
      if (error) throw error
      const sourceMapCache = {}
      const result = coverage.result.filter(script => script.url.startsWith(src))
      for (const script of result) {
        const map = findSourceMap(script.url)
        if (map !== undefined) sourceMapCache[script.url] = { lineLengths: map.lineLengths, data: map.payload }
      }
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, `coverage-${process.pid}-${Date.now()}.json`), JSON.stringify({ result, 'source-map-cache': sourceMapCache }))
    })
  })
}
