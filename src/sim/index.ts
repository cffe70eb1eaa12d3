// Seeded in-memory network simulation: fake clock, PRNG, impaired links, NATs, and a driver for pure cores.
export { createRng, type Rng } from './rng.js'
export { SimClock, type SimTimer, type RunLimits } from './clock.js'
export {
  SimNetwork, createSimNetwork,
  type SimNetworkOptions, type LinkOptions, type LatencyModel, type SimEndpoint, type DatagramHandler, type SimNetworkStats,
  type BindOptions
} from './network.js'
export { SimNat, type NatOptions, type NatStats, type NatMapping } from './nat.js'
export { NAT_PRESETS, NAT_DEFAULTS, type NatBehaviour, type NatBehaviourOptions, type NatPresetName } from './nat-options.js'
export { driveCore, type PollingCore, type PollOutput, type DriveOptions, type DrivenCore } from './drive.js'
export { SimTransport, simScheduler, simRandom, simSockets, type SimBind } from './io.js'
