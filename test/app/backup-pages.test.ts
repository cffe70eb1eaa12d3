// A backup reads each conversation in pages of the store's history (newest first, each page
// older than the last): every message once, oldest first, whatever the page size.
import t from 'tap'
import { allMessages } from '../../src/app/backup.js'
import type { StoredMessage } from '../../src/store/types.js'

function conversation (n: number): StoredMessage[] {
  return Array.from({ length: n }, (_, i) => ({ id: String(i + 1).padStart(32, '0'), peer: 'p', direction: 'in' as const, text: `m${i + 1}`, timestamp: i, receivedAt: i, status: 'received' as const, read: true, seq: i + 1 }))
}

t.test('every message once, oldest first', async t => {
  for (const [n, size] of [[0, 10], [1, 10], [10, 10], [25, 10], [2500, 1000], [7, 3]] as const) {
    const all = conversation(n)
    let pages = 0
    const got = await allMessages(async before => {
      pages++
      const older = all.filter(m => before === undefined || m.seq < before)
      return older.slice(-size).reverse()
    }, size)
    t.same(got.map(m => m.text), all.map(m => m.text), `${n} messages in pages of ${size}`)
    t.notOk(got.some(m => 'seq' in m), 'seq left out')
    t.ok(pages <= Math.ceil(n / size) + 1, `${pages} pages`)
  }
})
