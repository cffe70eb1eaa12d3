// `dmess status`'s port-mapping line (proto-spec/portmap.md §4, ipc.md §4).
import type { PortmapReport } from '../node/portmap.js'

/** One line: the mapped address and whether it makes us reachable, or why there is none. */
export function portmapLine (p: PortmapReport): string {
  if (!p.enabled) return 'off (--no-portmap)'
  if (p.mapped === undefined) return `${p.state}${p.reason === undefined ? '' : ` (${p.reason})`}`
  const reach = p.publiclyReachable ? 'publicly reachable' : `not publicly reachable: ${p.reason ?? 'unknown'}`
  const life = p.permanent === true ? 'permanent (the router grants no lease), deleted on stop' : `lapses in ${p.expiresInS ?? 0} s unless renewed`
  return `${p.mapped} via ${p.protocol ?? '?'} on ${p.gateway ?? '?'}, ${life}; ${reach}`
}
