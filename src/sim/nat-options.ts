// What a simulated NAT does, in RFC 4787's terms, and named sets of it for the classic kinds.
// The defaults are the RFC's recommendations; the presets use the older RFC 3489 §5 names
// (full cone ... symmetric), which RFC 4787 §3 notes are too coarse to describe every NAT but
// which every hole-punching text still uses.

/** How a mapping or a filter depends on the remote endpoint (RFC 4787 §4.1 and §5). */
export type NatBehaviour = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent'

export interface NatBehaviourOptions {
  /** §4.1: which outbound packets share one external address. REQ-1: endpoint-independent. */
  mapping?: NatBehaviour
  /** §5: which inbound packets a mapping lets in. Default address-dependent (REQ-8's stricter choice). */
  filtering?: NatBehaviour
  /** §4.2.1: keep the internal port when it is free on the external IP ('preserve', falling back
   *  to a random free port), or always pick a random free port ('random', like iptables'
   *  MASQUERADE --random-fully). Never port overloading (REQ-3). Default 'preserve'. */
  portAssignment?: 'preserve' | 'random'
  /** §4.2.2: a port picked at random has the internal port's parity. Default false. */
  portParity?: boolean
  /** Inclusive range random external ports come from. Default [1024, 65535]. */
  portRange?: readonly [number, number]
  /** §4.1 IP address pooling: 'paired' (REQ-2: one external IP per internal IP) or 'arbitrary'
   *  (each mapping draws one). Matters only with several external IPs. Default 'paired'. */
  pooling?: 'paired' | 'arbitrary'
  /** §4.3: a mapping idle this long (simulated ms) is gone. Default 300 000 (REQ-5's 5 minutes). */
  mappingTimeoutMs?: number
  /** §4.3: inbound packets refresh the mapping too (outbound always do, REQ-6). Default false. */
  inboundRefresh?: boolean
  /** §6: an internal host may reach another (or itself) through the external address; the packet
   *  then carries the sender's external address as its source (REQ-9). Default true. */
  hairpinning?: boolean
}

export type ResolvedNatBehaviour = Required<NatBehaviourOptions>

export const NAT_DEFAULTS: ResolvedNatBehaviour = {
  mapping: 'endpoint-independent',
  filtering: 'address-dependent',
  portAssignment: 'preserve',
  portParity: false,
  portRange: [1024, 65535],
  pooling: 'paired',
  mappingTimeoutMs: 300_000,
  inboundRefresh: false,
  hairpinning: true
}

export type NatPresetName = 'fullCone' | 'restrictedCone' | 'portRestrictedCone' | 'symmetric'

/**
 * The classic kinds. The cones keep one mapping per internal endpoint and preserve its port;
 * they differ only in filtering. Symmetric maps each destination endpoint anew to a random port,
 * so the address a rendezvous server sees is not the one a peer's packets must be sent to.
 * (Linux MASQUERADE behaves like portRestrictedCone while ports do not clash, and with
 * --random-fully like symmetric: see test/lab/hole-punch.test.ts.)
 */
export const NAT_PRESETS: Readonly<Record<NatPresetName, Readonly<NatBehaviourOptions>>> = {
  fullCone: { mapping: 'endpoint-independent', filtering: 'endpoint-independent', portAssignment: 'preserve' },
  restrictedCone: { mapping: 'endpoint-independent', filtering: 'address-dependent', portAssignment: 'preserve' },
  portRestrictedCone: { mapping: 'endpoint-independent', filtering: 'address-and-port-dependent', portAssignment: 'preserve' },
  symmetric: { mapping: 'address-and-port-dependent', filtering: 'address-and-port-dependent', portAssignment: 'random' }
}
