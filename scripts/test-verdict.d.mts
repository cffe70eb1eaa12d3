// Types for scripts/test-verdict.mjs (imported by the plain-JS scripts/run-tests.mjs).
export interface Counts { total: number, pass: number, fail: number, skip: number, todo: number }
export type Coverage = Record<'statements' | 'branches' | 'functions' | 'lines', number>
export const COVERAGE_METRICS: Array<keyof Coverage>
export function parseCounts (output: string): Counts | undefined
export function parseCoverage (output: string): Coverage | undefined
export function parseThresholds (taprc: string): Partial<Coverage>
export function coverageShortfall (coverage: Coverage | undefined, thresholds: Partial<Coverage>): string[]
export function verdict (o: { output: string, code: number | null, signal: NodeJS.Signals | null, thresholds?: Partial<Coverage>, coverageChecked?: boolean, uncheckedBecause?: string }): { line: string, exitCode: number }
