// Types for scripts/coverage-report.mjs.
export interface CoverageTotals { statements: number, branches: number, functions: number, lines: number }
export function coverageReport (tempDirectory: string, opts?: { write?: (s: string) => void }): Promise<CoverageTotals | undefined>
