// Wiring the relay onto a node's one socket (wire.md §1, proto-spec/relay.md §2): the endpoint
// hands every relay control message to one hook; an ALLOCATE is for our relay service (if this
// node serves as a relay), anything else answers one of our own requests (the client).
import type { PeerAddress } from '../io/address.js'
import { RelayType } from './constants.js'
import type { RelayClient } from './client.js'
import type { RelayService } from './service.js'

export interface RelayHookTarget {
  setHandler: (kind: 'relay', hook: ((bytes: Uint8Array, from: PeerAddress) => void) | null) => void
}

export function attachRelay (endpoint: RelayHookTarget, parts: { service?: RelayService | null, client?: RelayClient | null }): void {
  endpoint.setHandler('relay', (bytes, from) => {
    if (bytes[1] === RelayType.ALLOCATE) parts.service?.onControl(bytes, from)
    else parts.client?.onControl(bytes, from)
  })
}
