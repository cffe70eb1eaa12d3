// The detached daemon's own entry point (proto-spec/ipc.md §Detached start). `dmess daemon
// --detach` spawns this file rather than the `dmess` executable again: the background process
// then never loads oclif and its command tree, which it has no use for and which held ~11 MiB of
// its idle RSS for as long as it ran (measured: 71.7 → 60.8 MiB settled).
//   node detached-main.js --home H --host A --port N (--mdns | --no-mdns) [--peer h:p]... [--bootstrap h:p]...
//   node detached-main.js --home H --agent-ms N        (the unlock agent, `dmess unlock`)
// Only startDetached runs it: without the parent's IPC channel (for the passphrase) it refuses.
import { errors, isDmessError } from '../errors.js'
import { homePaths } from '../config/home.js'
import { hasParentChannel, parseChildArgs, reportFailure, runAsChild } from './detach.js'

async function main (): Promise<void> {
  if (!hasParentChannel()) throw errors.BAD_ARGUMENT('this is the background daemon started by `dmess daemon --detach`; run that instead')
  let parsed
  try {
    parsed = parseChildArgs(process.argv.slice(2))
  } catch (err) {
    await reportFailure(err)
    throw err
  }
  await runAsChild(homePaths(parsed.home), parsed.flags, parsed.agent) // reports a failure to the parent itself
}

main().catch((err: unknown) => {
  // stderr is <home>/daemon.log: one line, as every dmess command fails
  const e = err as Error
  process.stderr.write(`Error: ${(e?.message ?? String(err)).split('\n')[0] ?? 'unknown error'}\n`)
  if (process.env.DMESS_DEBUG !== undefined && e?.stack !== undefined) process.stderr.write(e.stack + '\n')
  process.exitCode = isDmessError(err) && err.exitCode !== 0 ? err.exitCode : 1
})
