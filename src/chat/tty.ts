// Preparing the process for an interactive ink app. Kept free of ink imports: it must run
// before ink is first loaded.

/**
 * ink decides once, when it is imported, whether it runs under CI (`is-in-ci` reads $CI and
 * $CONTINUOUS_INTEGRATION) and then draws nothing until it exits. A chat on a real terminal is
 * interactive whatever the environment says, so those variables are dropped from this process
 * (only) before ink is loaded. Returns whether anything was changed.
 */
export function forceInteractiveRendering (stdout: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (stdout.isTTY !== true) return false
  let changed = false
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) {
    if (k in env) { delete env[k]; changed = true }
  }
  return changed
}
