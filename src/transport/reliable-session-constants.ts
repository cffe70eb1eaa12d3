// Channel parameters of a ReliableSession (proto-spec/session.md, "Reliable delivery over a
// session"). Both ends derive them from these constants; nothing is negotiated. The ones the
// peer depends on are fixed; the local-only ones (send buffer, receive window, read high-water
// mark) may be changed per session without the peer knowing.
import { MAX_SESSION_DATAGRAM_BYTES, BASE_SESSION_DATAGRAM_BYTES } from './constants.js'
import { reliableConstants as rc } from './reliable/index.js'

/**
 * Channel packet size before path MTU discovery confirms more: the plaintext of a 1400-byte
 * TRANSPORT_DATA datagram (wire.md §3), which every path is assumed to carry.
 */
export const RELIABLE_SESSION_MTU = BASE_SESSION_DATAGRAM_BYTES

/**
 * The most path MTU discovery may probe (reliable.md §15): the largest TRANSPORT_DATA plaintext
 * a peer accepts. The real ceiling of a path is lower: see path-mtu.ts.
 */
export const RELIABLE_SESSION_MAX_MTU = MAX_SESSION_DATAGRAM_BYTES

/**
 * Largest message either side may send. Must be the same on both ends: a receiver fails the
 * channel on a length above its own limit (reliable.md §3).
 */
export const RELIABLE_SESSION_MAX_MESSAGE_BYTES = rc.DEFAULT_MAX_MESSAGE_BYTES

/**
 * No channel PING: the session layer already sends an empty keepalive after KEEPALIVE_AFTER_MS
 * of silence (session.md §7), which keeps NAT bindings and the peer's idle timer alive.
 */
export const RELIABLE_SESSION_KEEPALIVE_MS = null

/** Local only: bytes `send` may queue before it waits (reliable.md §4). */
export const RELIABLE_SESSION_SEND_BUFFER_BYTES = rc.DEFAULT_SEND_BUFFER_BYTES
/** Local only: the flow-control window we advertise (reliable.md §9) to a contact. */
export const RELIABLE_SESSION_RECV_WINDOW_BYTES = rc.DEFAULT_RECV_WINDOW_BYTES
/**
 * Local only: the window we advertise to a stranger (session.md §3.7): 64 KiB, enough for a
 * contact request and its held messages, 1/16 of what a stranger's sessions could make us buffer
 * otherwise. Decided when the ReliableSession is made, raised to a contact's once the peer is one.
 */
export const RELIABLE_SESSION_STRANGER_RECV_WINDOW_BYTES = 64 * 1024
/**
 * Local only: the largest message we take from a stranger (session.md §3.7): 128 KiB, above any
 * envelope (a payload is at most 96 KiB, envelope.md §2). Without it the window would not bound a
 * stranger's channel: a message is assembled whole, up to the 4 MiB every channel allows, so
 * 128 stranger sessions could make us hold 512 MiB. A longer length prefix fails the channel.
 */
export const RELIABLE_SESSION_STRANGER_MAX_MESSAGE_BYTES = 128 * 1024
/**
 * Local only: messages the async iterator holds unread before the session stops taking
 * messages from the channel (whose window then closes: the sender slows to the reader).
 */
export const RELIABLE_SESSION_HIGH_WATER_MESSAGES = 1024
