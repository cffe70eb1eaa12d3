// The echo peer whose RSS is transport_idle_session_rss_mib (scripts/bench/transport.ts): one
// Endpoint, and every message on every reliable session sent back. The bench bundles it with
// scripts/bundle.ts, as the daemon ships (dist/daemon.cjs), and runs it as `node FILE`.
// Prints {port, fingerprint, pid, aead}; exits when stdin closes.
import { Endpoint } from '../../../src/transport/index.js'
import { ReliableSession } from '../../../src/transport/reliable-session.js'
import { generateIdentity } from '../../../src/crypto/identity.js'
import { chachaPolyImplementation } from '../../../src/crypto/primitives.js'

async function main (): Promise<void> {
  const ep = await Endpoint.listen({ host: '127.0.0.1', port: 0, identity: generateIdentity() })
  ep.on('session', s => {
    const r = new ReliableSession(s)
    r.on('message', m => { r.send(m).catch(() => {}) })
  })
  console.log(JSON.stringify({ port: ep.address.port, fingerprint: ep.fingerprint, pid: process.pid, aead: chachaPolyImplementation().name }))
  process.stdin.resume()
  process.stdin.on('end', () => { void ep.close().then(() => process.exit(0)) })
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
