// The wire form of an address in DHT messages and presence records (proto-spec/dht.md §3): a
// family byte (4 or 6), the IP, the port as u16. The text forms are src/io/address.ts's.
import { formatAddress, isV4Mapped, parseAddress, parsePort, type ParsedAddress } from '../io/address.js'

/** family byte, IP, port */
export const ADDRESS_V4_BYTES = 1 + 4 + 2
export const ADDRESS_V6_BYTES = 1 + 16 + 2

/** Writes the wire form (family 4|6, IP, port u16) at `off`; returns the offset after it. */
export function writeAddress (view: DataView, buf: Uint8Array, off: number, p: ParsedAddress): number {
  buf[off] = p.family
  buf.set(p.ip, off + 1)
  view.setUint16(off + 1 + p.ip.length, p.port)
  return off + 3 + p.ip.length
}

/** Wire size of a canonical address string, or 0 if it does not parse (IPv4 checked when written). */
export function addressTextBytes (addr: string): number {
  return addr.charCodeAt(0) === 0x5b ? ADDRESS_V6_BYTES : ADDRESS_V4_BYTES
}

/**
 * Writes the wire form of an address string straight into `buf` (no intermediate parse for the
 * common IPv4 case); returns the offset after it, or -1 if the string is not a valid address.
 */
export function writeAddressText (view: DataView, buf: Uint8Array, off: number, addr: string): number {
  if (addr.charCodeAt(0) === 0x5b) {
    const p = parseAddress(addr)
    return p && p.family === 6 ? writeAddress(view, buf, off, p) : -1
  }
  buf[off] = 4
  let part = 0
  let value = 0
  let digits = 0
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i)
    if (c === 0x2e || c === 0x3a) { // "." or ":"
      if (digits === 0 || (c === 0x3a) !== (part === 3)) return -1
      buf[off + 1 + part++] = value
      if (c === 0x3a) {
        const port = parsePort(addr.slice(i + 1))
        if (port === null) return -1
        view.setUint16(off + 5, port)
        return off + ADDRESS_V4_BYTES
      }
      value = 0
      digits = 0
    } else if (c >= 0x30 && c <= 0x39 && !(digits > 0 && value === 0)) {
      value = value * 10 + c - 0x30
      if (++digits > 3 || value > 255) return -1
    } else {
      return -1
    }
  }
  return -1
}

/** Reads the wire form; null if the family is unknown, the port 0, v4-mapped v6, or bytes run out. */
export function readAddress (view: DataView, buf: Uint8Array, off: number): { addr: string, off: number } | null {
  const family = buf[off]
  const len = family === 4 ? 4 : family === 6 ? 16 : -1
  if (len < 0 || off + 3 + len > buf.length) return null
  const ip = buf.subarray(off + 1, off + 1 + len)
  const port = view.getUint16(off + 1 + len)
  if (port === 0 || (len === 16 && isV4Mapped(ip))) return null
  return { addr: formatAddress(ip, port), off: off + 3 + len }
}

export function addressBytes (p: ParsedAddress): number {
  return p.family === 4 ? ADDRESS_V4_BYTES : ADDRESS_V6_BYTES
}
