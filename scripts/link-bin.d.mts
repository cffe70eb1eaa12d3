export function chooseDir (env?: NodeJS.ProcessEnv, home?: string): { dir: string, onPath: boolean } | { error: string }
export function linkInto (dir: string, target?: string): string
