// Everything a node takes from the world, in one object (src/node/node.ts hands it to each part):
// time, randomness that is not key material, datagram sockets and storage. realWorld() is the
// machine this runs on; on the simulator, src/node/testnet.ts builds one from src/sim/io.ts.
import { realScheduler, type Scheduler } from './scheduler.js'
import { osRandom, type Random } from './random.js'
import type { DatagramSockets } from './datagram.js'
import { udpSockets } from './udp.js'
import { diskStorage, type Storage } from './storage.js'

export interface World {
  scheduler: Scheduler
  random: Random
  sockets: DatagramSockets
  storage: Storage
}

export function realWorld (): World {
  return { scheduler: realScheduler, random: osRandom(), sockets: udpSockets, storage: diskStorage }
}
