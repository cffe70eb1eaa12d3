// A hand-driven UPnP Internet Gateway Device on loopback for the client's tests: an SSDP responder
// (a real UDP socket answering M-SEARCH) and the device's HTTP server (a real node:http server)
// serving a description and a WANIPConnection control URL backed by a small mapping table. Each
// part can be told to misbehave (another LOCATION, faults, huge answers); every SOAP call is kept.
import { createSocket, type Socket } from 'node:dgram'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SoapCall { action: string, args: Record<string, string> }
export interface Mapping { internalClient: string, internalPort: number, lease: number }

/** What the control URL answers for a call: undefined = the table's own behaviour. */
export type SoapScript = (call: SoapCall, igd: FakeIgd) => { status: number, body: string } | undefined

export interface FakeIgdOptions {
  serviceType?: string
  /** the LOCATION the SSDP answer names (default: our own description URL) */
  location?: (httpPort: number) => string
  /** the description's body (default: a minimal IGD with one WAN service) */
  description?: (igd: FakeIgd) => string
  soap?: SoapScript
  /** the SSDP responder stays silent */
  silent?: boolean
  /** 725 to any lease but 0, as IGD v1 routers that keep only permanent mappings do */
  permanentOnly?: boolean
  /** grants at most this lease (seconds), as GetSpecificPortMappingEntry then says */
  maxLeaseS?: number
  /** accepts any lease and keeps the mapping without one (NewLeaseDuration 0 when asked back) */
  ignoresLease?: boolean
  externalIp?: string
}

export function descriptionXml (serviceType: string, controlUrl: string): string {
  return '<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor></specVersion>' +
    '<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType><deviceList><device>' +
    '<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><deviceList><device>' +
    '<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType><serviceList><service>' +
    `<serviceType>${serviceType}</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>` +
    `<controlURL>${controlUrl}</controlURL><SCPDURL>/scpd.xml</SCPDURL></service></serviceList></device></deviceList></device></deviceList></device></root>\n`
}

export function soapOk (serviceType: string, action: string, args: Record<string, string | number> = {}): string {
  const inner = Object.entries(args).map(([k, v]) => `<${k}>${v}</${k}>`).join('')
  return `<?xml version="1.0"?>\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:${action}Response xmlns:u="${serviceType}">${inner}</u:${action}Response></s:Body></s:Envelope>\n`
}

export function soapFault (code: number, description: string): { status: number, body: string } {
  return {
    status: 500,
    body: '<?xml version="1.0"?>\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><s:Fault>' +
      '<faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0">' +
      `<errorCode>${code}</errorCode><errorDescription>${description}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>\n`
  }
}

export class FakeIgd {
  readonly calls: SoapCall[] = []
  readonly searches: Array<{ text: string, from: string }> = []
  /** external port → mapping */
  readonly table = new Map<number, Mapping>()
  readonly serviceType: string
  gets = 0
  #waiters: Array<() => void> = []

  private constructor (readonly ssdp: Socket, readonly http: Server, readonly o: FakeIgdOptions) {
    this.serviceType = o.serviceType ?? 'urn:schemas-upnp-org:service:WANIPConnection:1'
    ssdp.on('message', (msg, rinfo) => {
      this.searches.push({ text: msg.toString(), from: `${rinfo.address}:${rinfo.port}` })
      this.#wake()
      if (o.silent === true || !msg.toString().startsWith('M-SEARCH * HTTP/1.1\r\n')) return
      const location = o.location?.(this.httpPort) ?? `http://127.0.0.1:${this.httpPort}/rootDesc.xml`
      ssdp.send(`HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:fake::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\nSERVER: fake/1 UPnP/1.1 test/1\r\nLOCATION: ${location}\r\n\r\n`, rinfo.port, rinfo.address)
    })
    http.on('request', (req, res) => { void this.#serve(req, res) })
  }

  static async start (o: FakeIgdOptions = {}): Promise<FakeIgd> {
    const ssdp = createSocket('udp4')
    await new Promise<void>(resolve => ssdp.bind(0, '127.0.0.1', resolve))
    const http = createServer()
    await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
    return new FakeIgd(ssdp, http, o)
  }

  get ssdpPort (): number { return this.ssdp.address().port }
  get httpPort (): number { return (this.http.address() as AddressInfo).port }

  actions (): string[] { return this.calls.map(c => c.action) }

  async until (pred: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`fake IGD: condition not met within ${timeoutMs} ms (calls: ${this.actions().join(', ')})`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.#waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  #wake (): void { for (const w of this.#waiters.splice(0)) w() }

  async #serve (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks).toString()
    const reply = (status: number, text: string): void => { res.writeHead(status, { 'Content-Type': 'text/xml' }); res.end(text); this.#wake() }
    if (req.method === 'GET') {
      this.gets++
      if (req.url !== '/rootDesc.xml') { reply(404, ''); return }
      reply(200, this.o.description?.(this) ?? descriptionXml(this.serviceType, '/ctl/IPConn'))
      return
    }
    const action = /#(\w+)"?$/.exec(String(req.headers.soapaction ?? ''))?.[1] ?? '?'
    const args: Record<string, string> = {}
    for (const m of body.matchAll(/<(New\w+)>([^<]*)<\/\1>/g)) args[m[1]!] = m[2]!
    const call = { action, args }
    this.calls.push(call)
    const scripted = this.o.soap?.(call, this)
    if (scripted !== undefined) { reply(scripted.status, scripted.body); return }
    const r = this.#table(call)
    reply(r.status, r.body)
  }

  #table ({ action, args }: SoapCall): { status: number, body: string } {
    const port = Number(args.NewExternalPort)
    const ok = (a: Record<string, string | number> = {}): { status: number, body: string } => ({ status: 200, body: soapOk(this.serviceType, action, a) })
    switch (action) {
      case 'GetExternalIPAddress': return ok({ NewExternalIPAddress: this.o.externalIp ?? '203.0.113.7' })
      case 'AddPortMapping': {
        const asked = Number(args.NewLeaseDuration)
        if (this.o.permanentOnly === true && asked !== 0) return soapFault(725, 'OnlyPermanentLeasesSupported')
        const lease = this.o.ignoresLease === true ? 0 : this.o.maxLeaseS !== undefined && asked > 0 ? Math.min(asked, this.o.maxLeaseS) : asked
        const held = this.table.get(port)
        if (held !== undefined && held.internalClient !== args.NewInternalClient) return soapFault(718, 'ConflictInMappingEntry')
        this.table.set(port, { internalClient: args.NewInternalClient!, internalPort: Number(args.NewInternalPort), lease })
        return ok()
      }
      case 'DeletePortMapping':
        if (!this.table.delete(port)) return soapFault(714, 'NoSuchEntryInArray')
        return ok()
      case 'GetSpecificPortMappingEntry': {
        const m = this.table.get(port)
        if (m === undefined) return soapFault(714, 'NoSuchEntryInArray')
        return ok({ NewInternalPort: m.internalPort, NewInternalClient: m.internalClient, NewEnabled: 1, NewPortMappingDescription: 'x', NewLeaseDuration: m.lease })
      }
      default: return soapFault(401, 'Invalid Action')
    }
  }

  async close (): Promise<void> {
    await new Promise<void>(resolve => this.ssdp.close(() => resolve()))
    this.http.closeAllConnections()
    await new Promise<void>(resolve => this.http.close(() => resolve()))
  }
}
