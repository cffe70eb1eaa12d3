#!/usr/bin/env node
// Writes oclif.manifest.json (the last step of `npm run build`, after tsc). Without it every `dmess`
// call imports all 29 compiled commands (and everything they import) only to list them; with
// it @oclif/core reads the list, flags and help from this file and imports the one command run.
// The manifest is what @oclif/core's own Plugin builds when none exists (ignoreManifest), so
// help and parsing are the same either way. Generated, never committed (.gitignore); shipped
// with the package (package.json "files").
import { Plugin } from '@oclif/core'
import { writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true })
await plugin.load()
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n')
