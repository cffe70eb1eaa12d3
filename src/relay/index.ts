// The blind relay (proto-spec/relay.md): service, client, selection, and the hook onto the node's socket.
export { RelayService, type RelayServiceOptions } from './service.js'
export { RelayCore, RELAY_DROP_REASONS, type RelayStats, type RelayDropReason } from './service-core.js'
export { RelayClient, RelayPath, type RelayOffer, type RelayedPathInfo, type RelayClientOptions } from './client.js'
export { orderRelays, allocateAny, RelayRefusals, type RelayCandidate } from './select.js'
export { attachRelay } from './attach.js'
export { moveDirect } from './direct.js'
export { RELAY_DEFAULTS, type RelayLimits } from './constants.js'
