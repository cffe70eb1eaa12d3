import { Args, Help } from '@oclif/core'
import { BaseCommand } from '../src/cli/base.js'
import { notFoundLine } from '../src/cli/suggest.js'
import { DmessError } from '../src/errors.js'

export default class HelpCommand extends BaseCommand {
  static override description = 'Show help for dmess or one of its commands (the same as --help or -h)'
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help contacts add']
  static override strict = false
  static override args = {
    command: Args.string({ required: false, description: 'a command or topic, words separated by spaces' })
  }

  async run (): Promise<void> {
    const { argv } = await this.parse(HelpCommand)
    const words = (argv as string[]).filter(w => !w.startsWith('-'))
    const id = words.join(':')
    if (words.length > 0 && this.config.findCommand(id) === undefined && this.config.findTopic(id) === undefined) {
      const names = [...this.config.commands.filter(c => c.hidden !== true).map(c => c.id), ...this.config.topics.map(t => t.name)].map(n => n.split(':').join(' '))
      throw new DmessError('BAD_ARGUMENT', notFoundLine(this.config.bin, words, names), 2)
    }
    await new Help(this.config).showHelp(words)
  }
}
