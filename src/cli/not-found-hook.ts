// oclif's `command_not_found` hook (package.json oclif.hooks): a mistyped command or topic gets
// one line on stderr naming the nearest real one (src/cli/suggest.ts) and exit code 2, as
// oclif's own usage errors, instead of oclif's "command contcts:list not found".
import type { Hook } from '@oclif/core'
import { notFoundLine } from './suggest.js'
import { terminalSafe } from '../platform/terminal-text.js'

const hook: Hook<'command_not_found'> = async function (opts) {
  const cfg = opts.config
  const sep = cfg.topicSeparator
  const names = [...cfg.commands.filter(c => c.hidden !== true).map(c => c.id), ...cfg.topics.filter(t => t.hidden !== true).map(t => t.name)]
    .map(id => id.split(':').join(sep))
  const id = opts.id.split(':')
  process.stderr.write(`Error: ${terminalSafe(notFoundLine(cfg.bin, [...id, ...(opts.argv ?? [])], names))}\n`)
  process.exitCode = 2
}

export default hook
