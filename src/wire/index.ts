// The wire layer in one import: packet framing, drop counting, envelopes and payloads.
// proto-spec/README.md indexes the specification.
export * from './constants.js'
export * from './drops.js'
export * from './packet.js'
export * from './payloads.js'
export * from './envelope.js'
export * from './seal.js'
export * from './cookie.js'
export * from './envelope-v2.js'
