// DHT simulation: the real DhtNode over a simulated network (dht.md §9).
export { DhtSimNetwork, type DhtSimNetworkOptions, type DhtSimNetworkStats, type SimDatagramNetwork } from './lean-network.js'
export { pairRttMs, quantile, DEFAULT_RTT_MODEL, type RttModel } from './latency.js'
export { SimDht, bindTransport, randomAddress, type SimNode, type SimDhtOptions } from './harness.js'
export { runScenario, SIM_EPOCH_MS, type ScenarioOptions, type ScenarioResult } from './scenario.js'
