// What the attack tests share: raw UDP sockets bound to many distinct loopback addresses (Linux
// answers on all of 127.0.0.0/8), each one a separate "source" to the victim; hand-made
// initiations; and one JSON line per measured figure.
import { createSocket, type Socket } from 'node:dgram'
import { HandshakePattern, PacketType } from '../../src/wire/constants.js'
import { encodeHandshakeInitiation } from '../../src/wire/packet.js'
import { sealMac1 } from '../../src/wire/mac1.js'
import type { PeerAddress } from '../../src/io/address.js'

export interface Received { bytes: Uint8Array, from: PeerAddress, at: number }

/** A raw UDP socket on one loopback address, recording every datagram it receives. */
export class Source {
  readonly received: Received[] = []

  private constructor (readonly socket: Socket, readonly host: string) {
    socket.on('message', (msg, rinfo) => { this.received.push({ bytes: new Uint8Array(msg), from: { host: rinfo.address, port: rinfo.port }, at: performance.now() }) })
  }

  static async bind (host: string): Promise<Source> {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, host, () => { socket.off('error', reject); resolve() })
    })
    return new Source(socket, host)
  }

  get port (): number {
    return this.socket.address().port
  }

  send (to: PeerAddress, bytes: Uint8Array): void {
    this.socket.send(bytes, to.port, to.host)
  }

  /** Datagrams received of one packet type (byte 1). */
  ofType (type: number): Received[] {
    return this.received.filter(r => r.bytes[1] === type)
  }

  async close (): Promise<void> {
    await new Promise<void>(resolve => { this.socket.close(() => resolve()) })
  }
}

/** `count` sources, `perNetwork` hosts in each /24: 127.0.<firstNet + k>.<1..perNetwork>. */
export async function bindSources (count: number, perNetwork: number, firstNet: number): Promise<Source[]> {
  const out: Source[] = []
  for (let i = 0; i < count; i++) out.push(await Source.bind(`127.0.${firstNet + Math.floor(i / perNetwork)}.${1 + (i % perNetwork)}`))
  return out
}

/**
 * An XX initiation an attacker can make without any Noise work: a random "ephemeral key" as
 * message 1, sealed with the mac1 of the fingerprint it knows (or not, when `mac1Key` is null).
 */
export function junkInitiation (senderIndex: number, ephemeral: Uint8Array, mac1Key: Uint8Array | null, cookie: Uint8Array | null = null): Uint8Array {
  const bytes = encodeHandshakeInitiation({ senderIndex, pattern: HandshakePattern.XX, cookie, message: ephemeral })
  return mac1Key === null ? bytes : sealMac1(bytes, mac1Key)
}

/** The receiver index of a COOKIE_REPLY or HANDSHAKE_RESPONSE (bytes 2–5 / 6–9). */
export function answeredIndex (r: Received): number {
  const v = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength)
  return r.bytes[1] === PacketType.HANDSHAKE_RESPONSE ? v.getUint32(6) : v.getUint32(2)
}

/** One JSON line per metric (the charter's format for attack figures). */
export function metric (t: { comment: (...a: unknown[]) => void }, name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  t.comment(JSON.stringify({ metric: name, value, unit, ...extra }))
}
