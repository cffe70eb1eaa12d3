// SSDP search (UPnP Device Architecture 1.1 §1.3), as proto-spec/portmap.md §5.1 writes it down:
// the M-SEARCH request a control point sends to find the Internet Gateway Device, and the reader
// of a device's unicast answer (an HTTP/1.1 200 response over UDP). Bytes in, typed values out,
// no I/O; the reader never throws (anything else returns null).

export const SSDP_MULTICAST = '239.255.255.250'
export const SSDP_PORT = 1900
/** An answer is one datagram; UDA 1.1 keeps SSDP messages small. Anything longer is not read. */
export const SSDP_MAX_BYTES = 4096
/** The search target: the IGD root device, version 1 (a v2 device answers v1 searches, UDA §1.3.2). */
export const IGD_SEARCH_TARGET = 'urn:schemas-upnp-org:device:InternetGatewayDevice:1'

/**
 * UDA 1.1 §1.3.2: `M-SEARCH * HTTP/1.1` with HOST, MAN "ssdp:discover", MX (seconds a device may
 * wait before answering a multicast search; 1, the least allowed) and ST.
 */
export function encodeMSearch (searchTarget: string = IGD_SEARCH_TARGET, mxS = 1): Uint8Array {
  if (!/^[\x21-\x7e]{1,200}$/.test(searchTarget)) throw new RangeError(`searchTarget must be printable ASCII without spaces, got ${JSON.stringify(searchTarget)}`)
  const text = [
    'M-SEARCH * HTTP/1.1',
    `HOST: ${SSDP_MULTICAST}:${SSDP_PORT}`,
    'MAN: "ssdp:discover"',
    `MX: ${mxS}`,
    `ST: ${searchTarget}`,
    '',
    ''
  ].join('\r\n')
  return new TextEncoder().encode(text)
}

export interface SsdpAnswer {
  /** LOCATION: the device description's URL (not yet checked: see igd.ts checkLanUrl) */
  location: string
  /** ST: what it answers for */
  searchTarget: string
  /** USN, when present */
  usn?: string
  /** SERVER, when present (for logs) */
  server?: string
}

/**
 * A search answer (UDA 1.1 §1.3.3): status line `HTTP/1.1 200 OK`, header lines, an empty line.
 * Header names are case-insensitive; LOCATION and ST are required. A NOTIFY or an M-SEARCH (other
 * control points' multicast) is not an answer.
 */
export function parseSsdpAnswer (bytes: Uint8Array): SsdpAnswer | null {
  if (bytes.length === 0 || bytes.length > SSDP_MAX_BYTES) return null
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
  const lines = text.split(/\r?\n/)
  if (!/^HTTP\/1\.[01] 200(?: .*)?$/.test(lines[0]!)) return null
  const headers = new Map<string, string>()
  for (const line of lines.slice(1)) {
    if (line === '') break
    const colon = line.indexOf(':')
    if (colon <= 0) return null
    const name = line.slice(0, colon).trim().toLowerCase()
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim())
  }
  const location = headers.get('location')
  const searchTarget = headers.get('st')
  if (location === undefined || location === '' || location.length > 512 || searchTarget === undefined || searchTarget === '') return null
  const usn = headers.get('usn')
  const server = headers.get('server')
  return { location, searchTarget, ...(usn === undefined ? {} : { usn }), ...(server === undefined ? {} : { server }) }
}
