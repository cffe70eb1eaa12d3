// The coverage table of `npm test`, from what the test processes wrote (scripts/coverage.mjs):
// c8 merges the V8 coverage of every process, maps it through the source maps to the .ts lines,
// and prints istanbul's text table (files at 100% left out) ending with its `All files` row,
// which scripts/test-verdict.mjs reads against the thresholds in .taprc.
import { readdirSync } from 'node:fs'
import { Report } from 'c8'

/**
 * Prints the table through `write` and resolves with the totals in percent
 * (`{ statements, branches, functions, lines }`), or undefined when no process wrote coverage.
 */
export async function coverageReport (tempDirectory, { write = s => process.stdout.write(s) } = {}) {
  let files = []
  try { files = readdirSync(tempDirectory) } catch { /* no process wrote any */ }
  if (files.length === 0) return undefined
  const report = new Report({
    reporter: ['text'],
    reportsDirectory: tempDirectory,
    tempDirectory,
    skipFull: true,
    excludeNodeModules: true,
    // coverage.mjs kept src/ only; c8's default exclusions (test/**, …) would not remove any of it
    include: ['src/**']
  })
  // istanbul's text reporter writes to process.stdout itself: collect it, then write it.
  const chunks = []
  const stdoutWrite = process.stdout.write
  process.stdout.write = (chunk) => { chunks.push(String(chunk)); return true }
  let map
  try {
    map = await report.getCoverageMapFromAllCoverageFiles()
    await report.run()
  } finally {
    process.stdout.write = stdoutWrite
  }
  write(chunks.join(''))
  const summary = map.getCoverageSummary()
  return {
    statements: summary.statements.pct,
    branches: summary.branches.pct,
    functions: summary.functions.pct,
    lines: summary.lines.pct
  }
}
