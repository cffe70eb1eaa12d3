// The contract every part of the daemon follows (STYLE §5): started in order, stopped in reverse.

export interface Component {
  /** short name for logs ("store", "udp", "ipc", later "transport", "mdns", "dht") */
  readonly name: string
  /** Acquires the component's resources. On failure it releases what it took and throws. */
  start: () => Promise<void>
  /** Releases them. Called once, only after a successful start; should not throw. */
  stop: () => Promise<void>
}
