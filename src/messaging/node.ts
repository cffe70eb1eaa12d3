// How the daemon gets its network and messaging components (proto-spec/messaging.md §1): the
// Endpoint on --host/--port, then the messaging service (links, mDNS unless --no-mdns, static
// --peer entries, DHT lookups when given one, outbox, requests). src/daemon/daemon.ts calls this once and lists the
// components in its start order; the IPC methods reach the service through `actions`.
import { isIPv4 } from 'node:net'
import type { Logger } from 'pino'
import type { HomePaths } from '../config/home.js'
import { loadConfig } from '../config/config.js'
import { readPublicProfile } from '../app/profile.js'
import type { Identity } from '../crypto/identity.js'
import type { EventBus } from '../runtime/events.js'
import type { Store } from '../store/index.js'
import { EndpointComponent } from './endpoint-component.js'
import { MessagingService } from './service.js'
import { MessagingActions } from './actions.js'
import type { NetworkOptions } from './network.js'
import type { LookupPresence } from './dht-lookups.js'

export interface NodeOptions {
  paths: HomePaths
  host: string
  port: number
  mdns: boolean
  peers: Array<{ host: string, port: number }>
  identity: Identity
  events: EventBus
  log: Logger
  store: () => Store
  now?: () => number
  /** the DHT's presence lookup (the daemon's DhtComponent): contacts not found otherwise are looked up */
  lookupPresence?: LookupPresence
}

export interface NodeParts {
  endpoint: EndpointComponent
  messaging: MessagingService
  actions: MessagingActions
}

/** mDNS follows the UDP bind: one interface when bound to one IPv4 address (DEPENDENCIES.md: bind 0.0.0.0 then). */
export function mdnsOptions (host: string, enabled: boolean): NetworkOptions['mdns'] {
  if (!enabled) return null
  if (isIPv4(host) && host !== '0.0.0.0') return { interface: host, bind: '0.0.0.0' }
  return {}
}

/** Our name in CONTACT_REQUESTs: config "name", else the one given to `dmess init`. */
async function profileName (paths: HomePaths): Promise<string | undefined> {
  const { config } = await loadConfig(paths.config).catch(() => ({ config: { name: '' } }))
  if (typeof config.name === 'string' && config.name !== '') return config.name
  return (await readPublicProfile(paths).catch(() => undefined))?.name
}

export function createNode (o: NodeOptions): NodeParts {
  const endpoint = new EndpointComponent({ host: o.host, port: o.port, identity: o.identity, log: o.log.child({ c: 'udp' }) })
  const messaging = new MessagingService({
    paths: o.paths,
    identity: o.identity,
    events: o.events,
    log: o.log.child({ c: 'messaging' }),
    endpoint: () => endpoint.endpoint,
    store: o.store,
    staticPeers: o.peers,
    mdns: mdnsOptions(o.host, o.mdns),
    lookupPresence: o.lookupPresence ?? null,
    profileName: async () => await profileName(o.paths),
    now: o.now
  })
  return { endpoint, messaging, actions: new MessagingActions(messaging) }
}
