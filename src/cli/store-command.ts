// Base for commands that read or write the local store: unlock with the passphrase, open, run, close.
import { BaseCommand } from './base.js'
import { getPassphrase, passphraseFlags } from './passphrase.js'
import { assertInitialised, withStore, type Unlocked } from '../app/profile.js'
import type { Store } from '../store/index.js'

export abstract class StoreCommand extends BaseCommand {
  static override baseFlags = { ...BaseCommand.baseFlags, ...passphraseFlags }

  protected async withStore<T> (flags: { home?: string, 'passphrase-file'?: string }, fn: (store: Store, u: Unlocked) => Promise<T>): Promise<T> {
    const paths = this.paths(flags.home)
    await assertInitialised(paths)
    const passphrase = await getPassphrase(flags)
    return await withStore(paths, passphrase, fn)
  }
}
