// The package's public entry: package.json "exports" maps `dmess/testnet` to the built
// src/node/testnet.ts and to its declarations. Node resolves a package's own name from inside the
// package once "exports" is set (a self-reference), so importing 'dmess/testnet' here goes through
// the map exactly as an installed package's user does. It reads dist/: in the slow group
// (scripts/test-groups.mjs), which runs after `npm run build`.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import type * as TestnetModule from '../../src/node/testnet.js'
import { testSeed } from '../helpers/seed.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string, exports: Record<string, { types: string, default: string }> }
const entry = pkg.exports['./testnet']!

t.test(`'${pkg.name}/testnet' resolves through the exports map and starts whole nodes on the simulator`, async t => {
  t.equal(pkg.name, 'dmess')
  t.equal(fileURLToPath(import.meta.resolve('dmess/testnet')), join(ROOT, entry.default), 'the built module the map names')
  // a specifier held in a variable: the type check (tsconfig.check.json) must not need dist/
  const specifier: string = 'dmess/testnet'
  const { createNodes, NAT_PRESETS } = await import(specifier) as typeof TestnetModule
  t.ok(NAT_PRESETS.symmetric, 'the NAT behaviours the behind option takes come with it')

  const seed = testSeed(t, 14, 'the simulated network and the nodes\' keys')
  const net = await createNodes(3, { network: 'sim', seed })
  t.teardown(async () => { await net.destroy() })
  t.equal(net.nodes.length, 3)
  const [, alice, bob] = net.nodes
  await net.befriend(alice!, bob!)
  const { id } = await net.drive(alice!.actions.send(bob!.fingerprint, 'through the exports map'))
  await net.until(() => alice!.seen.some(e => e.type === 'receipt' && (e.ids as string[]).includes(id)), 120_000, 'the receipt')
  t.ok(bob!.seen.some(e => e.type === 'message'), 'a message went from one node to another, and its receipt came back')

  // only what the map lists is public: a deep path into dist/ is refused
  const deep: string = 'dmess/dist/src/node/testnet.js'
  await t.rejects(import(deep), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' })
})

t.test('the declarations the map names exist and type-check a user of dmess/testnet', async t => {
  const declarations = join(ROOT, entry.types)
  t.ok(existsSync(declarations), `${entry.types} exists`)
  const consumer = join(ROOT, 'package-exports-consumer.ts') // in memory only: inside the package, so its own name resolves
  const options: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, types: ['node'] }
  const resolved = ts.resolveModuleName('dmess/testnet', consumer, options, ts.sys).resolvedModule
  t.equal(resolved?.resolvedFileName, declarations, 'TypeScript finds the declarations through the map')

  const source = [
    "import { createNodes, NAT_PRESETS, type Testnet } from 'dmess/testnet'",
    "export const net: Promise<Testnet> = createNodes(3, { network: 'sim', seed: 1, host: i => i === 0 ? '198.51.100.7' : '192.168.1.2',",
    "  behind: (i, sim) => i === 0 ? null : sim.createNat({ externalIps: ['203.0.113.1'], ...NAT_PRESETS.symmetric }) })",
    '// @ts-expect-error the network is sim or udp: a declaration that fell back to any would let this through',
    "export const wrong = createNodes(1, { network: 'tcp' })"
  ].join('\n')
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, version, ...rest) => name === consumer ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = name => name === consumer || fileExists(name)
  const program = ts.createProgram([consumer], options, host)
  // errors in our own declarations too (skipLibCheck would hide an import in them that does not
  // resolve, and the types behind it would quietly become any); not in other packages' typings
  const ours = (f: ts.SourceFile | undefined): boolean => f === undefined || f.fileName === consumer || f.fileName.startsWith(join(ROOT, 'dist') + '/')
  const files = program.getSourceFiles().filter(ours)
  const diagnostics = [...program.getGlobalDiagnostics(), ...files.flatMap(f => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)])]
  t.same(diagnostics.map(d => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`), [], 'no type errors')
  t.ok(program.getSourceFiles().some(f => f.fileName === declarations), 'the program read them')
})
