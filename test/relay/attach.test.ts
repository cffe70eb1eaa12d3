// Which part of a node gets a relay control message (src/relay/attach.ts, proto-spec/relay.md §2):
// an ALLOCATE goes to the relay service only while the node serves (a daemon: while publicly
// reachable); everything else answers the node's own requests (the client).
import t from 'tap'
import { attachRelay } from '../../src/relay/attach.js'
import { RelayType } from '../../src/relay/constants.js'
import type { RelayService } from '../../src/relay/service.js'
import type { RelayClient } from '../../src/relay/client.js'

t.test('an ALLOCATE reaches the service only while the node serves; answers go to the client', async t => {
  let hook: ((bytes: Uint8Array, from: { host: string, port: number }) => void) | null = null
  const toService: number[] = []
  const toClient: number[] = []
  let serving = false
  attachRelay({ setHandler: (_kind, h) => { hook = h } }, {
    service: { onControl: (b: Uint8Array) => { toService.push(b[1]!) } } as unknown as RelayService,
    client: { onControl: (b: Uint8Array) => { toClient.push(b[1]!) } } as unknown as RelayClient,
    serving: () => serving
  })
  const from = { host: '192.0.2.1', port: 4000 }
  const allocate = new Uint8Array([0xc1, RelayType.ALLOCATE, 0, 0])
  const answer = new Uint8Array([0xc1, RelayType.ALLOCATE + 1, 0, 0])
  hook!(allocate, from)
  t.same(toService, [], 'not publicly reachable: the ALLOCATE is dropped')
  serving = true
  hook!(allocate, from)
  t.same(toService, [RelayType.ALLOCATE], 'publicly reachable: the service gets it')
  hook!(answer, from)
  t.same(toClient, [RelayType.ALLOCATE + 1], 'any other relay message is for the client')
})
