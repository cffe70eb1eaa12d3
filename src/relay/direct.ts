// A relayed session keeps trying to go direct (proto-spec/relay.md §8). When the hole-punching
// code finds a direct address for the peer it calls this: a new handshake to that address, which
// replaces the relayed session on both sides (proto-spec/session.md §3.1, newest wins), and then
// the allocation is released. If the direct handshake fails, the relayed session carries on.
import type { PeerAddress } from '../io/address.js'
import type { RelayPath } from './client.js'

export interface DirectDialer<S> {
  connect: (to: PeerAddress, opts: { expectFingerprint: string, fresh: true, remoteStatic?: Uint8Array, timeoutMs?: number, signal?: AbortSignal }) => Promise<S>
}

/**
 * Try `direct` for `fingerprint`; on success release `path` and return the direct session, else
 * null. `fresh`: connect() would otherwise hand back the open relayed session (session.md §3.1).
 */
export async function moveDirect<S> (endpoint: DirectDialer<S>, path: RelayPath, direct: PeerAddress, fingerprint: string,
  opts: { remoteStatic?: Uint8Array, timeoutMs?: number, signal?: AbortSignal } = {}): Promise<S | null> {
  let session: S
  try {
    session = await endpoint.connect(direct, { expectFingerprint: fingerprint, fresh: true, ...opts })
  } catch {
    return null
  }
  path.release()
  return session
}
