#!/usr/bin/env node
// The `dmess` executable: hands argv to oclif, which loads the compiled commands in dist/commands.
import { execute } from '@oclif/core'

await execute({ dir: import.meta.url })
