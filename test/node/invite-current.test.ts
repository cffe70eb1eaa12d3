// Which of its own addresses a node puts in an invite (src/node/invite-current.ts): public first,
// then private, then loopback; nothing of another scope (src/io/address.ts ipScope).
import t from 'tap'
import { pickInviteAddresses } from '../../src/node/invite-current.js'

t.test('own addresses: public, private, loopback in that order; reserved, multicast and link-local never', async t => {
  const picked = pickInviteAddresses({
    observed: '240.0.0.7:4000',
    announced: ['127.0.0.1:4000', '10.0.0.2:4000', '198.51.100.9:4000', '224.0.0.1:4000', '169.254.3.3:4000', '255.255.255.255:4000'],
    candidates: ['240.1.1.1:5000', '203.0.113.4:5000']
  })
  t.same(picked.node, ['198.51.100.9:4000', '10.0.0.2:4000', '127.0.0.1:4000'], '240/4 is reserved (RFC 1112 §4), not public')
  t.same(picked.dht, ['203.0.113.4:5000'])
})
