// Types for scripts/build-stamp.mjs (a plain script: `npm test` runs it before anything is built).
export const REPO_ROOT: string
export const INPUTS: string[]
export const STAMP: string
export function inputFiles (root?: string): string[]
export function inputsHash (root?: string): string
export function readStamp (root?: string): string | undefined
export function isUpToDate (root?: string): boolean
export function writeStamp (root?: string): void
export function clearStamp (root?: string): void
