// Envelope v2 sessions (proto-spec/envelope.md §8): PQXDH starts and Double Ratchet state per peer.
export { SessionBook, type SessionWrite, type OpenV2Result, type OpenFailure, type SealedV2, type SessionBookOptions } from './book.js'
export { MAX_SESSIONS, encodePeerSessions, decodePeerSessions, type PeerSessions, type Session } from './record.js'
