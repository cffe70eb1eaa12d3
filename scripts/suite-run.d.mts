// Types for scripts/suite-run.mjs.
export interface Counts { total: number, pass: number, fail: number, skip: number, todo: number }
export interface FileResult { file: string, ok: boolean, ms: number, why: string, out: string, counts?: Counts }
export interface SuiteOptions {
  alone?: string[]
  jobs?: number
  perBatch?: number
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  cwd?: string
  write?: (s: string) => void
  coverageDir?: string
  durations?: Record<string, number>
}
export interface Task { files: string[], alone: boolean, ms: number }
export function runFile (file: string, opts: { env: NodeJS.ProcessEnv, timeoutMs: number, cwd: string, coverageDir?: string }): Promise<FileResult>
export function judgeBatch (files: string[], out: string, err: string): { passed: Map<string, { ms: number, counts?: Counts }>, failed: Set<string> }
export function report (n: number, r: FileResult): string
export function failureRecap (results: FileResult[], opts?: { linesPerFile?: number }): string
export function batches<T> (files: T[], count: number): T[][]
export function knownDurations (): Record<string, number>
export function schedule (batched: string[], alone: string[], opts?: { perBatch?: number, durations?: Record<string, number>, unknownMs?: number }): Task[]
export function runSuite (batched: string[], opts?: SuiteOptions): Promise<Counts & { files: number, failedFiles: number, results: FileResult[] }>
export function recordDurations (results: FileResult[]): void
