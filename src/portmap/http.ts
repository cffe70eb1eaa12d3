// The HTTP a UPnP IGD client needs (proto-spec/portmap.md §5.2): one GET of the device description,
// POSTs of SOAP actions, each to the router's own address on the LAN (checked by the caller), from
// our address toward it, with a deadline for the whole exchange and a cap on the answer's size.
// Redirects are not followed (node:http never does); a body over the cap ends the request.
import { request } from 'node:http'

export interface HttpAsk {
  method: 'GET' | 'POST'
  url: URL
  headers?: Record<string, string>
  body?: string
  /** our address toward the router: the request's source */
  localAddress?: string
  /** the whole exchange: connect, send, read */
  timeoutMs: number
  maxBytes: number
  signal?: AbortSignal
}

export type HttpAnswer = { ok: true, status: number, body: string } | { ok: false, error: string }

/** How the client speaks HTTP; injectable (tests count or script requests). */
export type HttpClient = (ask: HttpAsk) => Promise<HttpAnswer>

export const nodeHttpClient: HttpClient = async ask => {
  if (ask.signal?.aborted === true) return { ok: false, error: 'aborted' }
  try {
    return await exchange(ask)
  } catch (err) {
    return { ok: false, error: (err as Error).message } // e.g. a header node:http refuses
  }
}

async function exchange (ask: HttpAsk): Promise<HttpAnswer> {
  return await new Promise<HttpAnswer>(resolve => {
    let done = false
    const finish = (a: HttpAnswer): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      ask.signal?.removeEventListener('abort', onAbort)
      req.destroy()
      resolve(a)
    }
    const onAbort = (): void => { finish({ ok: false, error: 'aborted' }) }
    const headers = { Connection: 'close', ...ask.headers, ...(ask.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(ask.body)) }) }
    // node:http throws at once on a header it refuses: the caller's catch turns that into an answer
    const req = request(ask.url, { method: ask.method, headers, ...(ask.localAddress === undefined ? {} : { localAddress: ask.localAddress }), agent: false }, res => {
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > ask.maxBytes) { finish({ ok: false, error: `answer too large (${declared} bytes, limit ${ask.maxBytes})` }); return }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (d: Buffer) => {
        size += d.length
        if (size > ask.maxBytes) { finish({ ok: false, error: `answer too large (over ${ask.maxBytes} bytes)` }); return }
        chunks.push(d)
      })
      res.on('end', () => { finish({ ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', err => { finish({ ok: false, error: err.message }) })
    })
    const timer = setTimeout(() => { finish({ ok: false, error: `no answer within ${ask.timeoutMs} ms` }) }, ask.timeoutMs)
    ask.signal?.addEventListener('abort', onAbort, { once: true })
    req.on('error', err => { finish({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }) })
    req.end(ask.body)
  })
}
