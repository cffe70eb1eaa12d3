import { Args } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { completionScript, SHELLS, type Shell } from '../src/cli/completion-scripts.js'

export default class Completion extends BaseCommand {
  static override description = 'Print a shell completion script: commands, flags, and contact names while the daemon runs'
  static override examples = [
    'source <(<%= config.bin %> completion bash)      # in ~/.bashrc',
    'source <(<%= config.bin %> completion zsh)       # in ~/.zshrc, after compinit',
    '<%= config.bin %> completion fish | source        # in ~/.config/fish/config.fish'
  ]

  static override args = {
    shell: Args.string({ required: true, options: [...SHELLS], description: 'the shell' })
  }

  async run (): Promise<void> {
    const { args } = await this.parse(Completion)
    process.stdout.write(completionScript(args.shell as Shell))
  }
}
