#!/usr/bin/env node
// The `dmess` executable: hands argv to oclif, which loads the one command run from dist/commands
// (each command is a single bundled file: scripts/bundle.ts). package.json's "engines" already
// states the Node version, so @oclif/core's own check, which loads all of semver (48 modules) on
// every start, is switched off; the import comes after, hence dynamic. `dmess __complete`, run by
// the shell on every Tab (src/cli/completion-scripts.ts), skips oclif altogether.
if (process.argv[2] === '__complete') {
  const { main } = await import('../dist/src/cli/complete-main.js')
  await main(process.argv.slice(3))
} else {
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
  const { execute } = await import('@oclif/core')
  await execute({ dir: import.meta.url })
}
