// Base for commands that read or write the local store. While a daemon runs it holds the store
// (LevelDB allows one process), so `withApi` goes through the daemon's socket; otherwise it
// unlocks and opens the store here and runs the very same methods (src/daemon/rpc-methods.ts).
import { BaseCommand } from './base.js'
import { passphraseFlags, withPassphrase } from './passphrase.js'
import { findDaemon } from './daemon-client.js'
import { assertInitialised, withStore, type Unlocked } from '../app/profile.js'
import { isDmessError } from '../errors.js'
import { localCall, type Call } from '../daemon/rpc-methods.js'
import type { Store } from '../store/index.js'
import { keepInviteForNextStart } from '../node/invite-seed.js'

/** With neither daemon nor agent running, a store command needs the passphrase: say how to not. */
export const UNLOCK_HINT = '`dmess unlock` there once, and commands need none until it locks'

type StoreFlags = { home?: string, 'passphrase-file'?: string }

export abstract class StoreCommand extends BaseCommand {
  static override baseFlags = { ...BaseCommand.baseFlags, ...passphraseFlags }

  protected async withStore<T> (flags: StoreFlags, fn: (store: Store, u: Unlocked) => Promise<T>): Promise<T> {
    const paths = this.paths(flags.home)
    await assertInitialised(paths)
    // withStore unlocks before it runs fn: a wrong passphrase at a prompt is asked again
    return await withPassphrase(flags, async passphrase => await withStore(paths, passphrase, fn), { hint: UNLOCK_HINT })
  }

  /** Runs `fn` with a way to call methods: the daemon's if one runs, else on the store opened here. */
  protected async withApi<T> (flags: StoreFlags, fn: (call: Call) => Promise<T>): Promise<T> {
    const paths = this.paths(flags.home)
    await assertInitialised(paths)
    const viaDaemon = await this.viaDaemon(flags, fn)
    if (viaDaemon.found) return viaDaemon.value
    try {
      return await this.withStore(flags, async (store, u) => await fn(localCall({ store, identity: u.identity, now: Date.now, inviteSeed: async (_fp, a) => { await keepInviteForNextStart(paths.home, u.identity.dhSecret, a, Date.now()) } })))
    } catch (err) {
      // a daemon started between our check and the open: it holds the store now (fn has not run)
      if (!isDmessError(err) || err.code !== 'STORE_LOCKED') throw err
      const retry = await this.viaDaemon(flags, fn)
      if (retry.found) return retry.value
      throw err
    }
  }

  private async viaDaemon<T> (flags: StoreFlags, fn: (call: Call) => Promise<T>): Promise<{ found: true, value: T } | { found: false }> {
    const client = await findDaemon(this.paths(flags.home))
    if (!client) return { found: false }
    try {
      return { found: true, value: await fn(client.caller) }
    } finally {
      client.close()
    }
  }
}
