// Schema versions and the migration runner (proto-spec/storage.md §Schema versions).
// Each migration fills one LevelDB batch that also bumps meta schemaVersion, so a crash during
// an upgrade leaves the store wholly at the old version or wholly at the new one.
import { errors } from '../errors.js'
import { decode, encode } from './codec.js'
import type { RecordCipher } from './crypt.js'
import { commit, type RawDb, type Sub, type Subs } from './db.js'
import { META_KEY_CHECK, META_SCHEMA_VERSION, type KeyTags } from './key-layout.js'
import { migrateV1toV2 } from './migrate-v1.js'
import { migrateV2toV3 } from './migrate-v2.js'
import { migrateV3toV4 } from './migrate-v3.js'
import { migrateV4toV5 } from './migrate-v4.js'

/** The schema this code reads and writes. */
export const SCHEMA_VERSION = 5

/** Ops a migration adds to its batch; nothing is written until the runner commits. */
export interface BatchSink {
  put: (sublevel: Sub, key: string, value: Uint8Array) => void
  del: (sublevel: Sub, key: string) => void
}

export interface MigrationContext { db: RawDb, subs: Subs, cipher: RecordCipher, keys: KeyTags }

export type Migration = (ctx: MigrationContext, batch: BatchSink) => Promise<void>

/** MIGRATIONS[v] upgrades a store at version v to v + 1. */
const MIGRATIONS: Record<number, Migration> = {
  1: migrateV1toV2,
  2: migrateV2toV3,
  3: migrateV3toV4,
  4: migrateV4toV5
}

async function readVersion (subs: Subs): Promise<number | undefined> {
  const raw = await subs.meta.get(META_SCHEMA_VERSION)
  if (raw === undefined) return undefined
  const v = decode<unknown>(raw, 'meta schemaVersion')
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw errors.STORE_CORRUPT(`meta schemaVersion is ${String(v)}, expected a positive integer`)
  return v
}

/** A fresh database starts at the current version with a key-check record. */
async function initialize (ctx: MigrationContext): Promise<void> {
  const any = await ctx.db.keys({ limit: 1 }).all()
  if (any.length > 0) throw errors.STORE_CORRUPT('store holds data but no schemaVersion')
  await commit(ctx.db, [
    { type: 'put', sublevel: ctx.subs.meta, key: META_SCHEMA_VERSION, value: encode(SCHEMA_VERSION) },
    { type: 'put', sublevel: ctx.subs.meta, key: META_KEY_CHECK, value: ctx.cipher.makeKeyCheck() }
  ], true)
}

async function checkKey (ctx: MigrationContext): Promise<void> {
  const kc = await ctx.subs.meta.get(META_KEY_CHECK)
  if (kc === undefined) throw errors.STORE_CORRUPT('meta keyCheck is missing')
  if (!ctx.cipher.verifyKeyCheck(kc)) {
    throw errors.STORE_KEY_MISMATCH('the store key does not open this message store (was it written under another identity?)')
  }
}

async function runMigration (ctx: MigrationContext, from: number): Promise<void> {
  const migration = MIGRATIONS[from]
  if (migration === undefined) throw errors.STORE_CORRUPT(`no migration from schema v${from}`)
  const batch = ctx.db.batch()
  const sink: BatchSink = {
    put: (sublevel, key, value) => { batch.put(sublevel.prefix + key, value) },
    del: (sublevel, key) => { batch.del(sublevel.prefix + key) }
  }
  try {
    await migration(ctx, sink)
    sink.put(ctx.subs.meta, META_SCHEMA_VERSION, encode(from + 1))
    await batch.write({ sync: true })
  } catch (err) {
    await batch.close() // discards the ops: nothing of this migration was written
    throw err
  }
}

/**
 * Bring the store to SCHEMA_VERSION: initialize an empty one, refuse a newer
 * one (STORE_TOO_NEW) or the wrong key (STORE_KEY_MISMATCH), run migrations in order.
 * Returns the version the store is now at, and whether a migration ran.
 */
export async function prepareSchema (ctx: MigrationContext): Promise<{ version: number, migrated: boolean }> {
  let version = await readVersion(ctx.subs)
  if (version === undefined) {
    await initialize(ctx)
    return { version: SCHEMA_VERSION, migrated: false }
  }
  if (version > SCHEMA_VERSION) {
    throw errors.STORE_TOO_NEW(`message store is at schema v${version} but this dmess only knows up to v${SCHEMA_VERSION}: upgrade dmess (the store was left untouched)`)
  }
  await checkKey(ctx)
  const migrated = version < SCHEMA_VERSION
  while (version < SCHEMA_VERSION) {
    await runMigration(ctx, version)
    version++
  }
  if (migrated) await compactAll(ctx)
  return { version, migrated }
}

/**
 * Rewrite every LevelDB file after a migration, so the old-format records it deleted (v2 keys
 * held fingerprints and times) leave the log and tables now rather than at some later
 * compaction (§Migration v2 → v3). LevelDB also remembers, per level, the largest key of the
 * last compaction's inputs (its MANIFEST "compact pointer"): the first pass can leave an old key
 * there, so one current-format key is rewritten and compacted again, which moves every pointer
 * onto a current key. What the file system does with the freed blocks is beyond LevelDB.
 * Backends without compaction (the in-memory one) keep nothing deleted anyway.
 */
async function compactAll (ctx: MigrationContext): Promise<void> {
  const db = ctx.db as RawDb & { compactRange?: (start: string, end: string) => Promise<void> }
  if (typeof db.compactRange !== 'function') return
  // every key starts with a sublevel prefix `!name!`: ['!', '"'] covers them all
  await db.compactRange('!', '"')
  await commit(ctx.db, [{ type: 'put', sublevel: ctx.subs.meta, key: META_SCHEMA_VERSION, value: encode(SCHEMA_VERSION) }], true)
  await db.compactRange('!', '"')
}
