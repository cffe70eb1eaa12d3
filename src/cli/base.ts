// The base of every `dmess` command: the --home flag, JSON printing, and error handling that turns
// any failure into one line on stderr and a non-zero exit (a stack only with DMESS_DEBUG=1).
import { Command, Flags, Errors } from '@oclif/core'
import { isDmessError } from '../errors.js'
import { resolveHome, homePaths, type HomePaths } from '../config/home.js'
import { terminalSafe, terminalSafeJson } from '../platform/terminal-text.js'

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    home: Flags.string({
      description: 'home directory holding keys, messages and config (default: $DMESS_HOME or ~/.local/share/dmess)',
      helpGroup: 'GLOBAL'
    })
  }

  override async init (): Promise<void> {
    // What a command creates in the home (the store's files when it opens the store itself, a
    // detached daemon's log) is the user's alone, whatever the shell's umask (the daemon does the same).
    process.umask(0o077)
    await super.init()
  }

  protected paths (homeFlag: string | undefined): HomePaths {
    return homePaths(resolveHome(homeFlag))
  }

  protected printJson (value: unknown): void {
    process.stdout.write(terminalSafeJson(value, 2) + '\n')
  }

  protected override async catch (err: Error & { exitCode?: number, oclif?: { exit?: number } }): Promise<void> {
    // oclif's own exit (this.exit) carries no message worth printing
    if (err instanceof Errors.ExitError) {
      process.exitCode = err.oclif.exit
      return
    }
    // an error can quote what a peer chose (a name, an address): shown inert like every such line
    const line = terminalSafe(firstLine(err))
    process.stderr.write(`Error: ${line}\n`)
    if (process.env.DMESS_DEBUG && err.stack) process.stderr.write(err.stack + '\n')
    process.exitCode = isDmessError(err) ? err.exitCode : (err.oclif?.exit ?? 1)
    if (process.exitCode === 0) process.exitCode = 1
  }
}

function firstLine (err: Error): string {
  const text = (err.message || String(err)).trim()
  const line = text.split('\n').map(s => s.trim()).filter(Boolean)
  if (line.length <= 1) return line[0] ?? 'unknown error'
  // oclif's parse errors put the detail on the following lines ("Missing 1 required arg:\nname  ...")
  return `${line[0]} ${line[1]}`.replace(/\s+/g, ' ')
}
