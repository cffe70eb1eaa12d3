// Types for scripts/test-groups.mjs (imported by the plain-JS scripts/run-tests.mjs).
export const SLOW_AFTER_MS: number
export const SLOW: string[]
export function allTestFiles (root?: string): string[]
export function fastFiles (paths?: string[], root?: string): string[]
export function slowFilesIn (paths?: string[], root?: string): string[]
