// DHT settings for many nodes behind one address (loopback, one lab namespace, one simulated
// NAT): every peer shares our IP, so the per-IP defences (dht.md §8: /24 cap, request rate limit,
// records per source) would refuse them all. For tests and testnets; never for the Internet.
// Whether a host is loopback is src/io/address.ts isLoopbackHost.
import type { DhtNodeOptions } from './node.js'

export const LOOPBACK_SETTINGS: Partial<DhtNodeOptions> = {
  maxPerSubnet: 1_000_000,
  rateLimit: { ratePerSecond: 1_000_000, burst: 1_000_000 },
  networkRateLimit: { ratePerSecond: 1_000_000, burst: 1_000_000 },
  answerBudget: { ratePerSecond: 1_000_000, burst: 1_000_000 },
  records: { maxPerSource: 1_000_000 }
}
