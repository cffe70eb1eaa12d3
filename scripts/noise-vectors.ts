// Run Noise test vectors against our engine, in either published format (cacophony's, or the
// older one of noise-c's test vectors):
//   npx tsx scripts/noise-vectors.ts test/vectors/noise/cacophony.txt test/vectors/noise/noise-c-basic.txt
// Prints one line per failure, then `N passed, N failed, N skipped`; exits 1 on any failure,
// 2 on a usage or file error. Vectors for unsupported protocols (psk, fallback, hybrid, 448,
// AESGCM, BLAKE2s) are skipped, not failed. The logic lives in scripts/noise-vector-runner.ts.
import { readFileSync } from 'node:fs'
import { parseVectorFile, runVectors, type NoiseVector } from './noise-vector-runner.js'

function main (files: string[]): number {
  if (files.length === 0) {
    console.error('usage: npx tsx scripts/noise-vectors.ts FILE [FILE...]')
    return 2
  }
  const vectors: NoiseVector[] = []
  for (const file of files) {
    try {
      vectors.push(...parseVectorFile(readFileSync(file, 'utf8')))
    } catch (err) {
      console.error(`${file}: ${(err as Error).message}`)
      return 2
    }
  }
  const report = runVectors(vectors)
  for (const o of report.outcomes) {
    if (o.status === 'failed') console.log(`FAIL #${o.index} ${o.label}: ${o.reason ?? ''}`)
  }
  console.log(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`)
  return report.failed > 0 ? 1 : 0
}

process.exitCode = main(process.argv.slice(2))
