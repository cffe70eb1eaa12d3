// Ping-pong latency of ReliableSession over real UDP on 127.0.0.1 (docs/performance.md §2): a message
// that arrives while the session is quiet is handed to the application in the task that
// received its datagram, and a reply sent from the 'message' listener leaves in that same task,
// carrying the ACK: one datagram each way per round trip, no turn of the event loop in between.
import t from 'tap'
import { Endpoint, type Session } from '../../src/transport/index.js'
import { ReliableSession } from '../../src/transport/reliable-session.js'
import { generateIdentity } from '../../src/crypto/identity.js'

const WARM_UP = 5 // the session's first packets (handshake confirmation, first ACKs) aside
// No path MTU probes (reliable.md §15): a probe retried mid-run would add a datagram
const NO_PROBES = { pathCeiling: () => null }
const ROUND_TRIPS = 50

t.test('an echo goes out in the task that received the request, carrying its ACK', async t => {
  const server = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  const client = await Endpoint.listen({ host: '127.0.0.1', identity: generateIdentity() })
  t.teardown(async () => { await client.close(); await server.close() })

  // What the server had done by the end of the task that received each request datagram.
  const sameTask: Array<{ delivered: number, datagramsOut: number }> = []
  let delivered = 0
  server.on('session', (s: Session) => {
    const r = new ReliableSession(s, NO_PROBES)
    r.on('message', m => {
      delivered++
      if (!r.trySend(m)) t.fail('echo did not fit the send buffer')
    })
    // registered after the ReliableSession's own listener: runs right after its receive
    s.on('data', () => {
      const before = { delivered, out: server.stats().packetsOut }
      // a microtask queued now runs before the event loop turns (before any setImmediate)
      queueMicrotask(() => {
        sameTask.push({ delivered: delivered - before.delivered, datagramsOut: server.stats().packetsOut - before.out })
      })
    })
  })

  const s = await client.connect({ host: '127.0.0.1', port: server.address.port }, { expectFingerprint: server.fingerprint })
  const r = new ReliableSession(s, NO_PROBES)
  t.teardown(() => { r.close() })
  const it = r.messages()
  let before = r.stats
  for (let i = 0; i < WARM_UP + ROUND_TRIPS; i++) {
    if (i === WARM_UP) {
      before = r.stats
      sameTask.length = 0
    }
    const ping = new Uint8Array(1024).fill(i)
    if (!r.trySend(ping)) t.fail('ping did not fit the send buffer')
    const got = await it.next()
    if (got.done === true || Buffer.compare(got.value, ping) !== 0) return t.fail(`round trip ${i}: bad echo`)
  }
  const after = r.stats

  // A timer (delayed ACK, keepalive) may add a datagram now and then on a loaded machine — one
  // that delivers nothing; a pure ACK ahead of each echo or ping would double the count.
  const extra = Math.max(2, ROUND_TRIPS / 10)
  // (after such a pure ACK the server has nothing in flight when the next request comes, and
  // that request waits for the turn's poll, session.md §10.2: it counts among the others)
  const requests = sameTask.filter(x => x.delivered > 0)
  t.ok(requests.length >= ROUND_TRIPS - extra, `requests delivered in the task that read their datagram: ${requests.length} of ${ROUND_TRIPS}`)
  t.same(requests.filter(x => x.delivered !== 1 || x.datagramsOut < 1), [],
    'one request per datagram, and its echo sent before the server\'s event loop turned')
  t.ok(sameTask.length - requests.length <= 2 * extra, `few other datagrams reached the server: ${sameTask.length - requests.length}`)
  t.ok(after.packetsSent - before.packetsSent <= ROUND_TRIPS + extra, `about one datagram out per round trip (each ping carries the ACK of the last echo): ${after.packetsSent - before.packetsSent}`)
  t.ok(after.packetsReceived - before.packetsReceived <= ROUND_TRIPS + extra, `about one datagram back per round trip (each echo carries the ACK of its ping): ${after.packetsReceived - before.packetsReceived}`)
})
