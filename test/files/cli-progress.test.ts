// The text forms of a transfer (src/cli/files.ts): the list line and the progress bar a terminal
// gets, and that a name a peer chose cannot drive the terminal.
import t from 'tap'
import { bytesText, progressLine, transferLine } from '../../src/cli/files.js'
import type { TransferJson } from '../../src/files/transfer.js'

const base: TransferJson = {
  id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', direction: 'in', peer: 'p'.repeat(52), name: 'report.pdf', size: 20 * 1024 * 1024,
  mediaType: 'application/pdf', root: '00'.repeat(32), state: 'active', reason: null, bytesDone: 5 * 1024 * 1024, savedBytes: 4 * 1024 * 1024, path: null, source: null,
  chunkBytesSent: 0, chunkBytesReceived: 5 * 1024 * 1024, badChunks: 0, duplicateChunks: 0, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z'
}

t.test('sizes, the list line and the progress bar', async t => {
  t.equal(bytesText(0), '0 B')
  t.equal(bytesText(1536), '1.5 KiB')
  t.equal(bytesText(20 * 1024 * 1024), '20 MiB')
  t.equal(transferLine(base, 'bob'), 'a1b2c3d4  from bob  report.pdf  active  25% of 20 MiB')
  t.equal(progressLine(base, 1024 * 1024), 'report.pdf  [#####---------------]   25%  1.0 MiB/s  00:15 left')
  t.equal(progressLine(base, 0), 'report.pdf  [#####---------------]   25%  0 B/s  --:-- left', 'no rate yet: no time left shown')
  t.equal(progressLine({ ...base, state: 'done', bytesDone: base.size }, 0), 'report.pdf  [####################]  100%  done')
  t.equal(transferLine({ ...base, state: 'failed', reason: 'peer: disk full', direction: 'out' }, 'bob'), 'a1b2c3d4  to bob  report.pdf  failed (peer: disk full)  25% of 20 MiB')
  t.equal(transferLine({ ...base, state: 'failed', reason: 'disk full' }, 'bob'), 'a1b2c3d4  from bob  report.pdf  failed (disk full — free space, then dmess files resume a1b2c3d4)  25% of 20 MiB', 'our full disk: what to do')
})

t.test('a name with escape sequences is shown inert', async t => {
  const evil = { ...base, name: 'x\u001b[2Jy' }
  t.notOk(transferLine(evil, 'bob').includes('\u001b'), 'no escape in the list line')
  t.notOk(progressLine(evil, 1).includes('\u001b'), 'nor in the progress line')
})
