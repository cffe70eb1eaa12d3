// What `dmess export` and `dmess import` share: where the backup's own passphrase comes from,
// the warning a backup deserves, and one-line errors for a file that is not a readable backup.
import { Flags } from '@oclif/core'
import { readFile, stat } from 'node:fs/promises'
import { errors, isDmessError } from '../errors.js'
import { MAX_CIPHERTEXT_BYTES } from '../keystore/format.js'

export const backupPassphraseFlag = {
  'backup-passphrase-file': Flags.string({ description: 'read the backup\'s passphrase from the first line of this file (else $DMESS_BACKUP_PASSPHRASE, else a prompt)' })
}

export const BACKUP_SOURCES = { what: 'backup passphrase', envVar: 'DMESS_BACKUP_PASSPHRASE', flag: '--backup-passphrase-file', prompt: 'Backup passphrase: ' }

/** Said on stderr at every export: what the file is worth to whoever gets it. */
export const BACKUP_WARNING = 'note: this backup holds your identity\'s private keys (and with --history your messages in the clear once opened), ' +
  'protected only by the backup passphrase: whoever gets the file and that passphrase can read it and act as you; ' +
  'messages kept in it lose the protection forward secrecy gives messages you deleted. Keep it offline, under a strong passphrase.'

/** The backup's bytes; one line when the file cannot be one. */
export async function readBackupFile (path: string): Promise<Uint8Array> {
  let size: number
  try {
    size = (await stat(path)).size
  } catch {
    throw errors.BAD_ARGUMENT(`cannot read the backup ${path}`)
  }
  if (size > MAX_CIPHERTEXT_BYTES + 4096) throw errors.BAD_ARGUMENT(`${path} is not a dmess backup (${size} bytes; a backup is at most 1 MiB)`)
  return new Uint8Array(await readFile(path))
}

/** A damaged or foreign file, or the wrong passphrase, in words about backups rather than keystores. */
export function backupError (path: string, err: unknown): unknown {
  if (!isDmessError(err)) return err
  if (err.code === 'WRONG_PASSPHRASE') return errors.WRONG_PASSPHRASE(`wrong passphrase for the backup ${path}`)
  if (err.code.startsWith('KEYSTORE_')) return errors.BAD_ARGUMENT(`${path} is damaged or not a dmess backup (${err.message})`)
  return err
}
