// Seeded in-memory network simulation: fake clock, PRNG, impaired links, and a driver for pure cores.
export { createRng, type Rng } from './rng.js'
export { SimClock, type SimTimer, type RunLimits } from './clock.js'
export {
  SimNetwork, createSimNetwork,
  type SimNetworkOptions, type LinkOptions, type LatencyModel, type SimEndpoint, type DatagramHandler, type SimNetworkStats
} from './network.js'
export { driveCore, type PollingCore, type PollOutput, type DriveOptions, type DrivenCore } from './drive.js'
export { SimTransport, simScheduler, simRandom, simSockets, simAddress, parseSimAddress, type SimBind } from './io.js'
