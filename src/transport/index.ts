// The secure session layer over one UDP socket (proto-spec/session.md). The reliable channel
// (./reliable/, bound to a Session by reliable-session.ts) rides on Session datagrams.
export { Endpoint, type EndpointOptions, type EndpointConnectOptions, type EndpointEvents, type EndpointStats, type DatagramHook } from './endpoint.js'
export { Session, type SessionEvents } from './session.js'
export { SessionManager, type ManagerAction, type ManagerOptions, type ConnectOptions, type ManagerStats } from './manager.js'
export { SessionCore } from './session-core.js'
export { SessionKeys } from './session-keys.js'
export { ReplayWindow } from './replay-window.js'
export { TokenBucket, KeyedRateLimiter, type BucketOptions } from './rate-limit.js'
export { InitiatorHandshake, ResponderXX, respondToInitiation, type HandshakeKeys, type CompletedHandshake } from './handshake.js'
export { encodeProof, verifyProof, PROOF_BYTES, PROOF_VERSION, PayloadField, SESSION_ID_BYTES, type VerifiedPeer } from './proof.js'
export * from './constants.js'
export { SESSION_DROP_REASONS, type PeerAddress, type CloseReason, type SessionDropReason } from './types.js'
