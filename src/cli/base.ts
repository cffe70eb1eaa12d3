// The base of every `dmess` command: the --home flag, JSON printing, and error handling that turns
// any failure into one line on stderr and a non-zero exit (a stack only with DMESS_DEBUG=1).
import { Command, Flags, Errors, type Interfaces } from '@oclif/core'
import { isDmessError } from '../errors.js'
import { resolveHome, homePaths, type HomePaths } from '../config/home.js'
import { terminalSafe, terminalSafeJson } from '../platform/terminal-text.js'

// oclif's parser output shapes (not exported by name: FlagOutput, ArgOutput)
type Outputs = Record<string, unknown>
const INPUT_KEYS = ['flags', 'baseFlags', 'constraints', 'enableJsonFlag', 'strict', 'context', '--'] as const

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

  /**
   * oclif fills a missing argument from piped stdin (whatever arrives within 10 ms, trimmed), so
   * `echo bob | dmess contacts remove` would act on a name the user never typed, or not, by timing.
   * No dmess argument comes from stdin that way: a missing one is the usual "Missing 1 required arg"
   * line. `dmess send` reads its text from stdin itself (src/cli/message-text.ts), whole and capped.
   */
  protected override async parse<F extends Outputs, B extends Outputs, A extends Outputs> (
    options?: Interfaces.Input<F, B, A>, argv?: string[]
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const input = options ?? (this.ctor as unknown as Interfaces.Input<F, B, A>)
    const args = Object.fromEntries(Object.entries(input.args ?? {}).map(([name, arg]) => [name, { ...arg, ignoreStdin: true }]))
    // read by name, not spread: `input` is usually the command class, whose baseFlags are inherited
    const picked: Interfaces.Input<F, B, A> = { args: args as typeof input.args }
    for (const key of INPUT_KEYS) if (input[key] !== undefined) Object.assign(picked, { [key]: input[key] })
    return await super.parse(picked, argv)
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
