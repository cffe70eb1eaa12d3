// The UPnP client's HTTP (src/portmap/http.ts, portmap.md §5.2) against real node:http servers on
// loopback: the answer-size cap holds whether or not the router declares a length, a router that
// never answers is given up on at the deadline, an abort ends the request, and redirects are not
// followed. Every outcome is an answer, never a throw.
import t, { type Test } from 'tap'
import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { nodeHttpClient } from '../../src/portmap/http.js'

async function server (t: Test, handler: RequestListener): Promise<URL> {
  const s = createServer(handler)
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { s.closeAllConnections(); await new Promise<void>(resolve => s.close(() => resolve())) })
  return new URL(`http://127.0.0.1:${(s.address() as AddressInfo).port}/x`)
}

t.test('a body over the cap ends the request, declared or streamed', async t => {
  const declared = await server(t, (_req, res) => { res.writeHead(200, { 'Content-Length': '5000' }); res.end('x'.repeat(5000)) })
  t.same(await nodeHttpClient({ method: 'GET', url: declared, timeoutMs: 5000, maxBytes: 1000 }), { ok: false, error: 'answer too large (5000 bytes, limit 1000)' })
  let wrote = 0
  const streamed = await server(t, (_req, res) => {
    res.writeHead(200) // chunked: no length said
    const timer = setInterval(() => { wrote += 512; if (!res.write('y'.repeat(512)) || wrote > 1_000_000) { clearInterval(timer); res.end() } }, 1)
    res.on('close', () => { clearInterval(timer) })
  })
  const r = await nodeHttpClient({ method: 'GET', url: streamed, timeoutMs: 10_000, maxBytes: 4096 })
  t.same(r, { ok: false, error: 'answer too large (over 4096 bytes)' })
  t.ok(wrote < 1_000_000, `the client hung up long before the server was done (${wrote} bytes written)`)
})

t.test('a router that never answers: given up at the deadline; an abort ends it at once', async t => {
  const silent = await server(t, () => { /* never answers */ })
  t.same(await nodeHttpClient({ method: 'POST', url: silent, body: '<x/>', timeoutMs: 200, maxBytes: 100 }), { ok: false, error: 'no answer within 200 ms' })
  const ac = new AbortController()
  const pending = nodeHttpClient({ method: 'GET', url: silent, timeoutMs: 60_000, maxBytes: 100, signal: ac.signal })
  ac.abort()
  t.same(await pending, { ok: false, error: 'aborted' })
})

t.test('redirects are not followed; a refused connection is an answer', async t => {
  let followed = false
  const target = await server(t, (_req, res) => { followed = true; res.end('secret') })
  const redirect = await server(t, (_req, res) => { res.writeHead(302, { Location: target.href }); res.end() })
  t.same(await nodeHttpClient({ method: 'GET', url: redirect, timeoutMs: 5000, maxBytes: 100 }), { ok: true, status: 302, body: '' })
  t.notOk(followed, 'the Location was not fetched')
  t.same(await nodeHttpClient({ method: 'GET', url: new URL('http://127.0.0.1:9/'), timeoutMs: 5000, maxBytes: 100 }), { ok: false, error: 'ECONNREFUSED' })
})
