// What the testnet scenarios (test/node/*.test.ts) look at: a node's events, as a daemon's
// subscriber gets them (proto-spec/ipc.md §11), and its counters (messaging.stats).
import { createNodes, type Testnet, type TestnetOptions, type TestNode } from '../../src/node/testnet.js'
import type { StoredMessage } from '../../src/store/index.js'
import { seedOverride } from '../helpers/seed.js'

/** The seed of a simulated testnet (DMESS_TEST_SEED replays a run), printed by the caller. */
export function testnetSeed (fallback: number): number {
  return seedOverride() ?? fallback
}

interface TapLike { comment: (...args: unknown[]) => void, teardown: (fn: () => Promise<void> | void) => void }

/**
 * n whole nodes (simulated unless opts.network says 'udp'), destroyed in teardown. The seed is
 * `seed` unless DMESS_TEST_SEED replays another, and is printed for a simulated net.
 */
export async function testnet (t: TapLike, n: number, seed: number, opts: Partial<TestnetOptions> = {}): Promise<Testnet> {
  const network = opts.network ?? 'sim'
  const s = testnetSeed(seed)
  if (network === 'sim') t.comment(`seed=${s}`)
  const net = await createNodes(n, { ...opts, network, seed: s })
  t.teardown(async () => { await net.destroy() })
  return net
}

/**
 * Three nodes (the first a bystander), Alice and Bob contacts of each other, and Alice's first
 * message `text` delivered: the start of most two-party scenarios.
 */
export async function talkingPair (t: TapLike, seed: number, opts: Partial<TestnetOptions> = {}, text = 'before', what = 'delivered before'): Promise<{ net: Testnet, alice: TestNode, bob: TestNode, first: string }> {
  const net = await testnet(t, 3, seed, opts)
  const [, alice, bob] = net.nodes as [TestNode, TestNode, TestNode]
  await net.befriend(alice, bob)
  const { id } = await net.drive(alice.actions.send(bob.fingerprint, text))
  await net.until(() => receipted(alice, id), 120_000, what)
  return { net, alice, bob, first: id }
}

/** `from` got a receipt for `id` saying at least `status`. */
export function receipted (from: TestNode, id: string, status: 'delivered' | 'read' = 'delivered'): boolean {
  return from.seen.some(e => e.type === 'receipt' && e.direction === 'out' && (e.ids as string[]).includes(id) &&
    (e.status === status || e.status === 'read'))
}

/** `to` got a message with `text` from a contact (a message event, as `dmess chat` shows it). */
export function received (to: TestNode, text: string): boolean {
  return to.seen.some(e => e.type === 'message' && (e.message as { text?: string, direction?: string }).direction === 'in' &&
    (e.message as { text?: string }).text === text)
}

export interface Counters {
  framesIn: number, blocked: number, sessionsRefused: number, rateLimited: number, held: number, requestsDropped: number,
  textIn: number, lookupsStarted: number, lookupsFound: number, dialsStarted: number, dialsFailed: number, receiptsIn: number
  peer?: { admitted: number, rateLimited: number, blocked: number }
}

export function stats (n: TestNode, peer?: string): Counters {
  return n.actions.stats(peer) as unknown as Counters
}

/** The conversation with `peer` in the order the store keeps it (arrival order), oldest first. */
export async function conversation (n: TestNode, peer: TestNode, limit = 10_000): Promise<StoredMessage[]> {
  return (await n.store.history(peer.fingerprint, { limit })).slice().sort((x, y) => x.seq - y.seq)
}
