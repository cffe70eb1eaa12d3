// `dmess __complete <words…>`: what the completion scripts call on every Tab (bin/run.js runs
// it without starting oclif, ~0.15 s less per Tab). Prints the kind (`words` or `files`) on the
// first line, then one candidate a line; never an error (a completion that fails completes nothing).
//
// Contact names come only from a running daemon, over its socket (0600 in the 0700 home: whoever
// can reach it can already list the contacts). Without a daemon nothing is completed: the store
// keeps names sealed under the passphrase (proto-spec/storage.md), and a plain-text copy of them
// for the shell would undo that, so there is none.
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { complete, treeFromManifest, type ManifestCommand } from './complete.js'
import { findDaemon } from './daemon-client.js'
import { homePaths, resolveHome } from '../config/home.js'

const CONTACTS_TIMEOUT_MS = 2000
/** A name the shell can be given as is: no control characters, not starting with '-'. */
const SHELL_SAFE = /^[^\p{Cc}-][^\p{Cc}]*$/u

export async function main (words: readonly string[], root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')): Promise<void> {
  let out = 'words\n'
  try {
    const manifest = JSON.parse(await readFile(join(root, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, ManifestCommand> }
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { oclif?: { topics?: Record<string, unknown> } }
    const r = await complete(treeFromManifest(manifest, Object.keys(pkg.oclif?.topics ?? {})), words, async () => await contactWords(words))
    out = r.kind === 'files' ? 'files\n' : `words\n${r.words.map(w => w + '\n').join('')}`
  } catch {
    // nothing to offer
  }
  process.stdout.write(out)
}

/** Names and fingerprints of the contacts, from the daemon of the home the words name (--home) or the default one. */
async function contactWords (words: readonly string[]): Promise<string[]> {
  const client = await findDaemon(homePaths(resolveHome(homeIn(words)))).catch(() => undefined)
  if (client === undefined) return []
  try {
    const list = await client.call('contacts.list', {}, CONTACTS_TIMEOUT_MS)
    return list.flatMap(c => [...(c.name !== null && SHELL_SAFE.test(c.name) ? [c.name] : []), c.fingerprint])
  } catch {
    return []
  } finally {
    client.close()
  }
}

function homeIn (words: readonly string[]): string | undefined {
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i] as string
    if (w === '--home') return words[i + 1]
    if (w.startsWith('--home=')) return w.slice('--home='.length)
  }
  return undefined
}
