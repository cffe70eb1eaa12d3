#!/usr/bin/env node
// Builds the optional native addon (native/chacha20poly1305.c and native/ml-kem768.c →
// build/Release/dmess_chacha20poly1305.node) with the
// node-gyp that ships inside npm. Run by `npm install`/`npm ci` (the "install" script) and before
// the tests; skips the build when the addon is newer than its sources.
//
// It never fails the install: without a C compiler dmess still works, on node:crypto's slower
// ChaCha20-Poly1305 (src/crypto/native-aead.ts) and the TypeScript ML-KEM-768
// (src/crypto/ml-kem.ts), and this prints one line saying so. CI insists on the native build in
// test/crypto/native-aead.test.ts and test/crypto/ml-kem-native.test.ts instead.
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const ADDON = join(root, 'build', 'Release', 'dmess_chacha20poly1305.node')
const SOURCES = ['binding.gyp', 'native/chacha20poly1305.c', 'native/ml-kem768-napi.c', 'native/ml-kem768-napi.h',
  'native/ml-kem768.c', 'native/ml-kem768.h', 'native/fips202.c', 'native/fips202.h'].map(f => join(root, f))

function upToDate () {
  if (!existsSync(ADDON)) return false
  const built = statSync(ADDON).mtimeMs
  return SOURCES.every(f => statSync(f).mtimeMs <= built)
}

/** npm hands its own node-gyp to lifecycle scripts; outside npm, look beside the npm CLI. */
function nodeGyp () {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  ]
  return candidates.find(p => p !== undefined && p !== '' && existsSync(p))
}

/**
 * Where Node's headers are. npm passes its `nodedir` setting to lifecycle scripts; run by hand,
 * node-gyp would download headers, so point it at those installed beside this node binary.
 */
function nodeDirArgs () {
  if (process.env.npm_config_nodedir) return []
  const prefix = join(dirname(process.execPath), '..')
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : []
}

/** The first lines that say what went wrong (a compiler error, or node-gyp's own reason). */
function why (r) {
  if (r.error) return r.error.message
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map(l => l.trim()).filter(Boolean)
  const said = lines.filter(l => /error:|gyp ERR! stack Error|not found/i.test(l)).slice(0, 2)
  return (said.length > 0 ? said : lines.slice(-2)).join(' | ')
}

if (process.env.DMESS_NATIVE === 'off') {
  console.log('dmess: DMESS_NATIVE=off: not building the native addon; node:crypto and the TypeScript ML-KEM will be used')
} else if (!upToDate()) {
  const gyp = nodeGyp()
  const r = gyp === undefined
    ? { status: null, error: new Error('no node-gyp found (it ships with npm)'), stdout: '', stderr: '' }
    : spawnSync(process.execPath, [gyp, 'rebuild', '--loglevel=error', ...nodeDirArgs()], { cwd: root, encoding: 'utf8' })
  if (r.status !== 0) {
    console.log(`dmess: the native addon did not build (${why(r)}); node:crypto and the TypeScript ML-KEM will be used, slower per packet and per key exchange`)
  }
}
