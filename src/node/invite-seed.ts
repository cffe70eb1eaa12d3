// What adding a contact from a version 2 invite (proto-spec/identity.md §7.1) gives a running
// node: the inviter's node addresses become the contact's known addresses (dialled at once, before
// any DHT lookup: messaging.md §5), and they and the invite's public DHT nodes become bootstrap
// candidates (dht.md §6.4) — a new user's first way into the DHT when no list of ours exists.
// Nothing here is trusted: a dial must complete a Noise handshake under the invite's keys, a DHT
// node must answer from that address with an id valid for it.
import { join } from 'node:path'
import type { InviteAddresses } from '../crypto/invite.js'
import { splitHostPort } from '../io/address.js'
import { diskStorage } from '../io/storage.js'
import { BootstrapMemory, BOOTSTRAP_MEMORY_FILE } from './bootstrap-memory.js'
import type { Node } from './node.js'

/**
 * Without a DHT running (a command that opened the store itself, the unlock agent): the invite's
 * addresses wait in the bootstrap memory for the daemon's next start (dht.md §6.4).
 */
export async function keepInviteForNextStart (home: string, dhSecret: Uint8Array, a: InviteAddresses, now: number): Promise<void> {
  const memory = new BootstrapMemory(join(home, BOOTSTRAP_MEMORY_FILE), dhSecret, diskStorage)
  await memory.add([...a.node, ...a.dht], 'invite', now)
  await memory.close()
}

export function seedFromInvite (node: Node, fingerprint: string, addresses: InviteAddresses): void {
  const all = [...addresses.node, ...addresses.dht]
  for (const a of all) node.dht?.noteCandidate(a, 'invite')
  if (node.dht?.joinIfAlone(all) !== true) void node.dht?.rememberNow()
  const messaging = node.messaging
  const now = node.opts.world.scheduler.wallNow()
  for (const text of addresses.node) {
    const a = splitHostPort(text)
    if (a !== null) messaging.network.conn.remember(fingerprint, a, 'static', now)
  }
  if (addresses.node.length > 0) messaging.network.apply(messaging.network.conn.demand(fingerprint, true, now))
}
