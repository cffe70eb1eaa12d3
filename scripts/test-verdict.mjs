// The closing line of `npm test` (scripts/run-tests.mjs) from what tap printed and how it exited.
// The line must never look clean when the run is not: tap exits 1 with every test passed when
// coverage is below a .taprc threshold (or none was collected), and the line then says why.

/** tap's final count, `# { total: 12, pass: 11, fail: 1 }` (keys omitted when zero); the last one wins. */
export function parseCounts (output) {
  let last
  for (const m of output.matchAll(/^# \{ total: (\d+)([^}\n]*)\}\s*$/gm)) last = m
  if (last === undefined) return undefined
  const field = (name) => {
    const f = last[2].match(new RegExp(`\\b${name}: (\\d+)`))
    return f ? Number(f[1]) : 0
  }
  return { total: Number(last[1]), pass: field('pass'), fail: field('fail'), skip: field('skip'), todo: field('todo') }
}

export const COVERAGE_METRICS = ['statements', 'branches', 'functions', 'lines']

/**
 * The `All files` row of tap's text coverage table:
 * `All files  |   91.93 |    85.71 |    90.2 |   91.93 |` (statements, branches, functions, lines).
 */
export function parseCoverage (output) {
  let last
  for (const m of output.matchAll(/^All files\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|/gm)) last = m
  if (last === undefined) return undefined
  return Object.fromEntries(COVERAGE_METRICS.map((k, i) => [k, Number(last[i + 1])]))
}

/** The coverage thresholds set in .taprc's text (top-level `statements: 88` lines). */
export function parseThresholds (taprc) {
  const out = {}
  for (const k of COVERAGE_METRICS) {
    const m = taprc.match(new RegExp(`^${k}:\\s*([\\d.]+)\\s*(#.*)?$`, 'm'))
    if (m) out[k] = Number(m[1])
  }
  return out
}

/** Metrics below their threshold, in .taprc order: `branches 81.2% < 82%`. */
export function coverageShortfall (coverage, thresholds) {
  if (coverage === undefined) return []
  return COVERAGE_METRICS
    .filter(k => thresholds[k] !== undefined && coverage[k] !== undefined && coverage[k] < thresholds[k])
    .map(k => `${k} ${coverage[k]}% < ${thresholds[k]}%`)
}

/**
 * The closing line and the exit code. `code`/`signal`: how tap exited; `output`: what it printed
 * (stdout); `coverageChecked`: false when the run disabled the coverage check; `uncheckedBecause`:
 * the option that disabled it (`--fast`, `--disable-coverage`).
 */
export function verdict ({ output, code, signal, thresholds = {}, coverageChecked = true, uncheckedBecause = '--fast' }) {
  const exitCode = code ?? (signal ? 1 : 0)
  const counts = parseCounts(output)
  if (counts === undefined) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`
    return { line: `0 passed, 1 failed (tap printed no summary; it ${how})`, exitCode: exitCode === 0 ? 1 : exitCode }
  }
  const skipped = counts.skip + counts.todo
  let line = `${counts.pass} passed, ${counts.fail} failed${skipped ? `, ${skipped} skipped` : ''} (of ${counts.total})`
  if (!coverageChecked) line += `; coverage not checked (${uncheckedBecause})`
  if (exitCode === 0) return { line, exitCode }
  if (counts.fail > 0) return { line, exitCode }
  // Non-zero exit with no failed test: the run failed all the same, so the line counts one
  // failure and names it; a reader (or a grep for " 0 failed") cannot take it for a clean run.
  const passed = `${counts.pass} passed, 1 failed${skipped ? `, ${skipped} skipped` : ''}`
  const short = coverageChecked ? coverageShortfall(parseCoverage(output), thresholds) : []
  if (short.length > 0) line = `${passed} (of ${counts.total} tests and the coverage check: below threshold: ${short.join(', ')})`
  else if (coverageChecked && /^# No coverage generated\s*$/m.test(output)) line = `${passed} (of ${counts.total} tests and the coverage check: no coverage generated)`
  else line = `${passed} (of ${counts.total} tests; tap ${signal ? `was killed by ${signal}` : `exited with code ${exitCode}`})`
  return { line, exitCode }
}
