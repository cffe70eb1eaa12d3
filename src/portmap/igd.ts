// UPnP IGD documents (proto-spec/portmap.md §5): the few elements of a device description a
// client needs (which WAN connection service, and its control URL), and the SOAP 1.1 actions it
// calls on that service (UDA 1.1 §3.2; WANIPConnection:1/2 and WANPPPConnection:1 service
// templates) with their answers and faults. Text in, typed values out, no I/O; nothing throws on
// what a device sends.
import { parseIp } from '../io/address.js'
import { child, childText, descendants, escapeXml, parseXml, type XmlElement } from './xml.js'

/** The services that can map a port, best first (v2 has the longer-lived semantics; PPP last). */
export const WAN_SERVICE_TYPES = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1'
] as const

/** Response size caps, bytes: a description (a real one is 2–10 KB) and a SOAP answer. */
export const DESCRIPTION_MAX_BYTES = 65_536
export const SOAP_MAX_BYTES = 16_384

export interface IgdService {
  serviceType: string
  /** absolute http URL, on the device's own address (checked) */
  controlUrl: string
}

/**
 * Checks that `url` is plain http to `host` (the address the SSDP answer came from): a device
 * description or control URL naming another host is refused, so that nothing on the LAN can make
 * us send requests elsewhere (server-side request forgery). Returns the URL or a reason.
 */
export function checkLanUrl (url: string, host: string, base?: string): { ok: true, url: URL } | { ok: false, error: string } {
  let u: URL
  try {
    u = base === undefined ? new URL(url) : new URL(url, base)
  } catch {
    return { ok: false, error: `not a URL: ${JSON.stringify(url.slice(0, 80))}` }
  }
  if (u.protocol !== 'http:') return { ok: false, error: `not plain http: ${u.protocol}` }
  if (u.username !== '' || u.password !== '') return { ok: false, error: 'a URL with credentials' }
  if (parseIp(u.hostname) === null || u.hostname !== host) return { ok: false, error: `${u.hostname} is not the device that answered (${host})` }
  return { ok: true, url: u }
}

/**
 * The best WAN connection service in a device description (UDA 1.1 §2.3: root > device >
 * deviceList > … > serviceList > service with serviceType and controlURL). The control URL is
 * resolved against URLBase when there is one (UDA 1.0), else against the description's own URL,
 * and must stay on `host`. A service with a refused URL is skipped, with the reason kept.
 */
export function parseDescription (xml: string, location: string, host: string): { ok: true, service: IgdService } | { ok: false, error: string } {
  const doc = parseXml(xml, { maxChars: DESCRIPTION_MAX_BYTES, maxDepth: 32, maxElements: 4096 })
  if (!doc.ok) return { ok: false, error: `device description: ${doc.error}` }
  if (doc.root.name !== 'root') return { ok: false, error: `device description: root element is <${doc.root.name}>, not <root>` }
  const base = childText(doc.root, 'URLBase') || location
  let refused: string | undefined
  for (const type of WAN_SERVICE_TYPES) {
    for (const svc of descendants(doc.root, 'service')) {
      if (childText(svc, 'serviceType') !== type) continue
      const control = childText(svc, 'controlURL')
      if (control === undefined || control === '') continue
      const checked = checkLanUrl(control, host, base)
      if (!checked.ok) { refused = `control URL refused: ${checked.error}`; continue }
      return { ok: true, service: { serviceType: type, controlUrl: checked.url.href } }
    }
  }
  return { ok: false, error: refused ?? 'the device offers no WANIPConnection or WANPPPConnection service' }
}

export type SoapArgs = ReadonlyArray<readonly [string, string | number]>

/** UDA 1.1 §3.2.1: the SOAPACTION header and the envelope for `action` on `serviceType`. */
export function encodeSoapRequest (serviceType: string, action: string, args: SoapArgs): { soapAction: string, body: string } {
  if (!/^[A-Za-z]+$/.test(action)) throw new RangeError(`bad SOAP action name ${JSON.stringify(action)}`)
  const inner = args.map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`).join('')
  const body = '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:${action} xmlns:u="${escapeXml(serviceType)}">${inner}</u:${action}></s:Body></s:Envelope>\r\n`
  return { soapAction: `"${serviceType}#${action}"`, body }
}

export type SoapAnswer =
  | { kind: 'ok', args: Map<string, string> }
  /** UDA 1.1 §3.2.2: s:Fault with detail/UPnPError/errorCode (and errorDescription) */
  | { kind: 'fault', code: number, description: string }
  | { kind: 'malformed', error: string }

/**
 * An action's answer: `<u:ACTIONResponse>`'s child elements as name → text, or the UPnP error a
 * fault carries. HTTP 500 is how faults arrive, but the body decides: a 200 with a fault is a
 * fault, a 500 without one is malformed.
 */
export function decodeSoapResponse (xml: string, action: string): SoapAnswer {
  const doc = parseXml(xml, { maxChars: SOAP_MAX_BYTES, maxDepth: 16, maxElements: 256 })
  if (!doc.ok) return { kind: 'malformed', error: doc.error }
  if (doc.root.name !== 'Envelope') return { kind: 'malformed', error: `root element is <${doc.root.name}>, not <Envelope>` }
  const body = child(doc.root, 'Body')
  if (body === undefined) return { kind: 'malformed', error: 'no <Body>' }
  const fault = child(body, 'Fault')
  if (fault !== undefined) {
    const err = descendants(fault, 'UPnPError')[0]
    const code = err === undefined ? NaN : Number(childText(err, 'errorCode'))
    if (!Number.isInteger(code) || code < 0) return { kind: 'malformed', error: 'a SOAP fault without a UPnP error code' }
    return { kind: 'fault', code, description: (err === undefined ? '' : childText(err, 'errorDescription') ?? '').slice(0, 120) }
  }
  const resp = child(body, `${action}Response`)
  if (resp === undefined) return { kind: 'malformed', error: `no <${action}Response>` }
  return { kind: 'ok', args: new Map(resp.children.map((c: XmlElement) => [c.name, c.text.trim()])) }
}

/** Error codes of the WANIPConnection/WANPPPConnection templates and UDA 1.1 §3.2.2. */
export const UpnpError = {
  INVALID_ACTION: 401,
  INVALID_ARGS: 402,
  ACTION_FAILED: 501,
  NOT_AUTHORIZED: 606,
  SPECIFIED_ARRAY_INDEX_INVALID: 713,
  NO_SUCH_ENTRY_IN_ARRAY: 714,
  WILDCARD_NOT_PERMITTED_IN_SRC_IP: 715,
  WILDCARD_NOT_PERMITTED_IN_EXT_PORT: 716,
  CONFLICT_IN_MAPPING_ENTRY: 718,
  SAME_PORT_VALUES_REQUIRED: 724,
  ONLY_PERMANENT_LEASES_SUPPORTED: 725,
  REMOTE_HOST_ONLY_SUPPORTS_WILDCARD: 726,
  EXTERNAL_PORT_ONLY_SUPPORTS_WILDCARD: 727,
  NO_PORT_MAPS_AVAILABLE: 728,
  CONFLICT_WITH_OTHER_MECHANISMS: 729
} as const

const NAMES: Record<number, string> = {
  401: 'InvalidAction',
  402: 'InvalidArgs',
  501: 'ActionFailed',
  606: 'ActionNotAuthorized',
  713: 'SpecifiedArrayIndexInvalid',
  714: 'NoSuchEntryInArray',
  715: 'WildCardNotPermittedInSrcIP',
  716: 'WildCardNotPermittedInExtPort',
  718: 'ConflictInMappingEntry',
  724: 'SamePortValuesRequired',
  725: 'OnlyPermanentLeasesSupported',
  726: 'RemoteHostOnlySupportsWildcard',
  727: 'ExternalPortOnlySupportsWildcard',
  728: 'NoPortMapsAvailable',
  729: 'ConflictWithOtherMechanisms'
}

export function upnpErrorName (code: number): string {
  return NAMES[code] ?? `error ${code}`
}
