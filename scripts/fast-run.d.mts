export interface FileResult { file: string, ok: boolean, ms: number, why: string, out: string }
export interface FastOptions {
  jobs?: number
  perBatch?: number
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  cwd?: string
  write?: (s: string) => void
}
export function runFile (file: string, opts: { env: NodeJS.ProcessEnv, timeoutMs: number, cwd: string }): Promise<FileResult>
export function judgeBatch (files: string[], out: string, err: string): { passed: Map<string, number>, failed: Set<string> }
export function report (n: number, r: FileResult): string
export function batches<T> (files: T[], count: number): T[][]
export function runFast (files: string[], opts?: FastOptions): Promise<{ total: number, pass: number, fail: number, results: FileResult[] }>
