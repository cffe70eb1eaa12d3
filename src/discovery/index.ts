// LAN discovery over mDNS/DNS-SD (proto-spec/discovery.md).
export { MdnsDiscovery, type MdnsDiscoveryOptions, type MdnsDiscoveryEvents, type DiscoveryStats } from './mdns.js'
export type { DiscoveredPeer, LostPeer } from './mdns-cache.js'
export type { DropReason } from './mdns-parse.js'
export type { MdnsFactory } from './mdns-socket.js'
export { SERVICE_TYPE } from './constants.js'
