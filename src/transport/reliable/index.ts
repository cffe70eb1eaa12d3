// Reliable, ordered message delivery inside an encrypted session — proto-spec/reliable.md.
export { ReliableChannel, type PollResult, type ReliableStats } from './channel.js'
export type { ReliableChannelOptions } from './options.js'
export {
  decodePacket, encodePacket, PacketWriter, ackFrameBytes,
  type Packet, type Frame, type DataFrame, type AckFrame, type BlockedFrame, type PingFrame, type PnRange
} from './codec.js'
export { RttEstimator, type RttOptions } from './rtt.js'
export { NewReno } from './congestion.js'
export { RangeSet, type Range } from './ranges.js'
export * as reliableConstants from './constants.js'
