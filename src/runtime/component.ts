// The contract every part of a node or daemon follows: started in order, stopped in reverse, so
// each part finds what it depends on running and stops before it goes (proto-spec/ipc.md §7).

export interface Component {
  /** short name for logs ("store", "udp", "ipc", later "transport", "mdns", "dht") */
  readonly name: string
  /** Acquires the component's resources. On failure it releases what it took and throws. */
  start: () => Promise<void>
  /** Releases them. Called once, only after a successful start; should not throw. */
  stop: () => Promise<void>
}
