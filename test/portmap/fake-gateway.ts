// A hand-driven PCP/NAT-PMP gateway on loopback for the client's tests: a real UDP socket that
// records every request and answers as the test's script says (or not at all).
import { createSocket, type Socket } from 'node:dgram'

export interface Received { bytes: Uint8Array, from: { address: string, port: number } }
/** What to send back for a request: bytes, or null for silence (a script may answer later itself: gw.reply). */
export type Script = (req: Uint8Array, gw: FakeGateway, from: Received['from']) => Uint8Array | Uint8Array[] | null

export class FakeGateway {
  readonly received: Received[] = []
  script: Script
  #waiters: Array<() => void> = []

  private constructor (readonly socket: Socket, script: Script) {
    this.script = script
    socket.on('message', (msg, rinfo) => {
      const bytes = new Uint8Array(msg)
      this.received.push({ bytes, from: { address: rinfo.address, port: rinfo.port } })
      const from = { address: rinfo.address, port: rinfo.port }
      const out = this.script(bytes, this, from)
      for (const b of out === null ? [] : Array.isArray(out) ? out : [out]) this.reply(b, from)
      for (const w of this.#waiters.splice(0)) w()
    })
  }

  /** On 127.0.0.1 and a free port unless told (another loopback address is another gateway). */
  static async start (script: Script, host = '127.0.0.1', port = 0): Promise<FakeGateway> {
    const socket = createSocket('udp4')
    await new Promise<void>(resolve => socket.bind(port, host, resolve))
    return new FakeGateway(socket, script)
  }

  get port (): number { return this.socket.address().port }

  /** Sends `bytes` to `to` (a request's source), resolving once sent. */
  async reply (bytes: Uint8Array, to: Received['from']): Promise<void> {
    await new Promise<void>(resolve => { this.socket.send(bytes, to.port, to.address, () => { resolve() }) })
  }

  /** Resolves once `pred` holds over what was received (checked after every datagram). */
  async until (pred: (received: Received[]) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!pred(this.received)) {
      if (Date.now() > deadline) throw new Error(`fake gateway: condition not met within ${timeoutMs} ms (${this.received.length} requests)`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.#waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  async close (): Promise<void> {
    await new Promise<void>(resolve => this.socket.close(() => resolve()))
  }
}
