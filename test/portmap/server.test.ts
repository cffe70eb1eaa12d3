// The router's side of PCP (src/portmap/server.ts), read back with the client's own decoder
// (src/portmap/pcp.ts): what a MAP grants, a delete, a source that is not the client address
// (RFC 6887 §8.1 ADDRESS_MISMATCH), what is dropped or refused.
import t from 'tap'
import { answerPcpRequest, type PcpServerContext } from '../../src/portmap/server.js'
import { decodePcpResponse, encodePcpAnnounceRequest, encodePcpMapRequest, PcpResult } from '../../src/portmap/pcp.js'

function router (): { ctx: PcpServerContext, forwards: Map<string, number> } {
  const forwards = new Map<string, number>()
  const ctx: PcpServerContext = {
    epochS: 42,
    externalIp: '203.0.113.9',
    maxLifetimeS: 3600,
    map: (internal, port) => { const p = port === 0 ? 40000 : port; forwards.set(internal, p); return p },
    unmap: internal => { forwards.delete(internal) }
  }
  return { ctx, forwards }
}

const nonce = Uint8Array.from({ length: 12 }, (_, i) => i + 1)

t.test('MAP: the port forwarded, the lifetime capped, nonce and port echoed; lifetime 0 deletes', async t => {
  const { ctx, forwards } = router()
  const req = encodePcpMapRequest({ clientAddress: '192.168.1.2', lifetimeS: 7200, nonce, internalPort: 4000, externalPort: 4000 })
  const r = decodePcpResponse(answerPcpRequest(req, '192.168.1.2', ctx)!)
  t.match(r, { kind: 'map', result: PcpResult.SUCCESS, lifetimeS: 3600, epochS: 42, internalPort: 4000, externalPort: 4000, externalAddress: '203.0.113.9', protocol: 17 })
  t.same(r?.kind === 'map' ? [...r.nonce] : null, [...nonce])
  t.same([...forwards], [['192.168.1.2:4000', 4000]])
  const del = encodePcpMapRequest({ clientAddress: '192.168.1.2', lifetimeS: 0, nonce, internalPort: 4000, externalPort: 4000 })
  t.match(decodePcpResponse(answerPcpRequest(del, '192.168.1.2', ctx)!), { kind: 'map', result: PcpResult.SUCCESS })
  t.equal(forwards.size, 0, 'deleted')
})

t.test('a request whose client address is not its source maps nothing', async t => {
  const { ctx, forwards } = router()
  const req = encodePcpMapRequest({ clientAddress: '192.168.1.3', lifetimeS: 7200, nonce, internalPort: 4000, externalPort: 0 })
  t.match(decodePcpResponse(answerPcpRequest(req, '192.168.1.2', ctx)!), { kind: 'map', result: PcpResult.ADDRESS_MISMATCH })
  t.equal(forwards.size, 0)
})

t.test('ANNOUNCE tells the epoch; responses, short or odd-sized datagrams get no answer; no free port is NO_RESOURCES', async t => {
  const { ctx } = router()
  t.match(decodePcpResponse(answerPcpRequest(encodePcpAnnounceRequest('192.168.1.2'), '192.168.1.2', ctx)!), { kind: 'announce', result: 0, epochS: 42 })
  const resp = answerPcpRequest(encodePcpAnnounceRequest('192.168.1.2'), '192.168.1.2', ctx)!
  t.equal(answerPcpRequest(resp, '192.168.1.2', ctx), null, 'a response is not answered')
  t.equal(answerPcpRequest(new Uint8Array(10), '192.168.1.2', ctx), null)
  t.equal(answerPcpRequest(new Uint8Array(26), '192.168.1.2', ctx), null)
  const full = { ...ctx, map: () => null }
  const req = encodePcpMapRequest({ clientAddress: '192.168.1.2', lifetimeS: 60, nonce, internalPort: 4000, externalPort: 0 })
  t.match(decodePcpResponse(answerPcpRequest(req, '192.168.1.2', full)!), { kind: 'map', result: PcpResult.NO_RESOURCES })
})
