// Schema v4 → v5 (proto-spec/storage.md §Migration v4 → v5). v5 may keep the outbox entry of an
// outbound text in that message's msgindex entry, with the lowest such seq in its conversation's
// record; a v4 store keeps every entry in the outbox sublevel, which v5 reads as it is, and no
// conversation record of v4 has that seq: nothing is rewritten. The version still goes up, so
// that v4 code refuses a v5 store (STORE_TOO_NEW) rather than missing the entries it holds.
import type { BatchSink, MigrationContext } from './migrations.js'

export async function migrateV4toV5 (_ctx: MigrationContext, _batch: BatchSink): Promise<void> {}
