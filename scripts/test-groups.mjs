// Which test files `npm test -- --fast` leaves out: the one list of slow tests. Everything else is
// fast: it runs in the tap process alone (pure code, simulated networks and clocks, in-process
// daemons on loopback UDP where a file is quick). Slow is anything that starts another process
// (the built `dmess`, a daemon, a tsx fixture, valgrind, tmux, python) or a network namespace,
// any file that runs the built commands in its own process (test/helpers/cli-inproc.ts: they
// need `npm run build`), and any file that needs more than SLOW_AFTER_MS on an idle machine
// (many whole nodes, floods).
// An entry ending in `/` is a directory. `--fast` names any file that took longer than
// SLOW_AFTER_MS, so a file that grew slow is moved here.
import { readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

export const SLOW_AFTER_MS = 10_000

export const SLOW = [
  'test/attacks/request-flood.test.ts', // 152 simulated whole nodes, ten minutes of their churn and 30 days of simulated time: ~23 s of CPU
  'test/attacks/session-flood.test.ts', // 2,000 stranger endpoints on loopback, ~10 s
  'test/attacks/half-open-flood.test.ts', // a 4,096-entry half-open table filled twice (simulated and over loopback, on a slowed clock): thousands of handshakes
  'test/cli/', // the built commands: a process per command, or in the test process (test/helpers/cli-inproc.ts)
  'test/e2e/', // daemons as processes, the chat in tmux
  'test/lab/', // network namespaces
  'test/attacks/datagram-fuzz.test.ts', // a bootstrap node and daemons as processes, 2 × 160,000 datagrams
  'test/attacks/held-flood.test.ts', // a daemon process and a process of flooding strangers
  'test/build/bundle.test.ts', // bundles the daemon and runs it
  'test/build/setup.test.ts', // runs npm run setup and dmess through PATH
  'test/build/man.test.ts', // groff and man as processes, on the built man pages
  'test/build/check-imports.test.ts', // runs scripts/check-imports.ts under tsx
  'test/build/package-exports.test.ts', // imports dist/ through package.json "exports" and type-checks its declarations: needs the build
  'test/crypto/native-aead-memcheck.test.ts', // valgrind
  'test/crypto/native-aead.test.ts', // a reliable peer in a child process without the addon
  'test/crypto/ml-kem-constant-time.test.ts', // the C compiler, then valgrind
  'test/crypto/noise-vectors.test.ts', // scripts/noise-vectors.ts under tsx
  'test/crypto/primitives.test.ts', // a tsx child process
  'test/daemon/cli.test.ts', // daemons through the built binary
  'test/daemon/ipc.test.ts', // a child process holds the socket
  'test/daemon/log-format.test.ts', // `dmess daemon` on a pseudo-terminal (script)
  'test/bootstrap/unit.test.ts', // systemd-analyze as a process
  'test/dht/churn.test.ts', // 100 restarts in a 50-node simulated DHT: ~12 s
  'test/dht/sim.test.ts', // a 500-node simulated DHT with churn and 400 lookups: ~15 s of CPU
  'test/dht/request-gate.test.ts', // about 4 million requests through the gate from simulated floods: ~10 s, over it under load
  'test/wire/payloads.test.ts', // decodePayload fuzzed, 2 × 20,000 inputs per payload type: ~9 s of CPU, over 10 s under load
  'test/dht/maintenance.test.ts', // republishing, expiry and bucket refresh over simulated hours: ~11 s of CPU
  'test/dht/daemon-dht.test.ts', // daemons and a bootstrap node as processes
  'test/dht/udp-bootstrap.test.ts', // `dmess bootstrap` as a process
  'test/relay/bootstrap-relay.test.ts', // `dmess bootstrap` as a process, relaying
  'test/dht/udp-testnet.test.ts', // a process per node
  'test/discovery/interop.test.ts', // python3-zeroconf in a network namespace
  'test/discovery/netns.test.ts', // network namespaces
  'test/keystore/crash.test.ts', // a writer process killed mid-write
  'test/ratchet/python.test.ts', // python3 (pyca/cryptography) replays the ratchet vectors
  'test/pqxdh/python-crosscheck.test.ts', // python3 with pyca/cryptography as a process
  'test/node/ratchet-crash.test.ts', // seeded kills of both ends of a ratchet conversation, six restarts, and a directed kill: ~9 s idle, over 10 s under load
  'test/node/sim-determinism.test.ts', // the same 20-node simulated scenario twice (nodes with prekeys: envelope v2), every datagram traced: ~9 s of CPU, over 10 s under load
  'test/node/testnet.test.ts', // the 50-node simulated scenario (with prekeys: envelope v2) twice with every datagram traced, a third 50-node DHT, and 10 loopback whole nodes in one process: ~18.5 s of CPU
  'test/store/crash.test.ts', // a writer process killed mid-write
  'test/files/sim.test.ts', // seven file transfers between whole simulated nodes, two of them across a crash
  'test/stun/coturn.test.ts', // coturn's turnserver as a process
  'test/transport/reliable-udp.test.ts', // a reliable peer process
  'test/transport/udp-processes.test.ts' // peers as processes
]

function isSlow (file) {
  return SLOW.some(entry => entry.endsWith('/') ? file.startsWith(entry) : file === entry)
}

/** Every test file tap would run (.taprc include: test/**\/*.test.ts), relative, sorted. */
export function allTestFiles (root = ROOT) {
  return readdirSync(join(root, 'test'), { recursive: true })
    .map(f => `test/${f.split('\\').join('/')}`)
    .filter(f => f.endsWith('.test.ts') && !/\/fixtures?\//.test(f))
    .sort()
}

function within (file, paths) {
  if (paths.length === 0) return true
  return paths.some(p => {
    const rel = relative(ROOT, resolve(p)).split('\\').join('/')
    return file === rel || file.startsWith(rel.endsWith('/') ? rel : rel + '/')
  })
}

/** The fast test files, among `paths` (files or directories) when any are given. */
export function fastFiles (paths = [], root = ROOT) {
  return allTestFiles(root).filter(f => !isSlow(f) && within(f, paths))
}

/** The slow test files among `paths` (all when none are given). */
export function slowFilesIn (paths = [], root = ROOT) {
  return allTestFiles(root).filter(f => isSlow(f) && within(f, paths))
}
