// One run of a testnet node (src/node/testnet.ts) between its start and its end, and how it can
// end as under `kill -9`. Every part of a node takes time, sockets and storage from its World
// (src/io/world.ts); a Life hands the node that World through gates it can shut at once:
//
//   timers    the ones set stop firing, new ones are never armed (a dead process runs nothing)
//   sockets   closed without a word: no SESSION_CLOSE, peers see silence until their timeouts
//   storage   a write handed over before the kill finishes (the OS finishes a dead process's
//             write(2)s); a write issued after it never lands and its promise never settles,
//             as the process that would have awaited it is gone
//
// Reads still pass: nothing a frozen node reads leaves it. release() closes its databases once
// the code still in flight has run out, as the OS closes a dead process's files, so the home
// can be opened again by the next run.
import type { World } from '../io/world.js'
import type { Scheduler, TimerHandle } from '../io/scheduler.js'
import type { DatagramSockets, DatagramTransport } from '../io/datagram.js'
import type { LevelDb, Storage } from '../io/storage.js'

/** The promise a dead process leaves behind: it never settles. */
async function never<T> (): Promise<T> { return await new Promise<T>(() => {}) }

export class Life {
  #dead = false
  readonly #timers = new Map<TimerHandle, Scheduler>()
  readonly #transports = new Set<DatagramTransport>()
  readonly #dbs = new Set<LevelDb>()
  readonly #writes = new Set<Promise<unknown>>()

  get dead (): boolean { return this.#dead }

  /** `base` with gated timers, sockets and storage, and the wall clock `skewMs` off. */
  world (base: World, skewMs = 0): World {
    return { scheduler: this.#scheduler(base.scheduler, skewMs), random: base.random, sockets: this.#sockets(base.sockets), storage: this.#storage(base.storage) }
  }

  /** The kill: timers cancelled, sockets closed silently, then the writes already handed over finish. */
  async kill (): Promise<void> {
    this.#dead = true
    for (const [handle, scheduler] of this.#timers) scheduler.clearTimer(handle)
    this.#timers.clear()
    for (const t of this.#transports) await t.close()
    this.#transports.clear()
    await Promise.allSettled([...this.#writes])
  }

  /** After kill(): close the databases the dead run held, so they can be opened again. */
  async release (): Promise<void> {
    if (!this.#dead) return
    await new Promise(resolve => setImmediate(resolve)) // reads in flight at the kill complete first
    for (const db of this.#dbs) if (db.status === 'open') await db.close()
    this.#dbs.clear()
  }

  #track<T> (p: Promise<T>): Promise<T> {
    this.#writes.add(p)
    const done = (): void => { this.#writes.delete(p) }
    p.then(done, done)
    return p
  }

  #scheduler (base: Scheduler, skewMs: number): Scheduler {
    return {
      now: () => base.now(),
      // whole milliseconds, as Date.now() reads (the simulated clock runs in fractions)
      wallNow: () => Math.floor(base.wallNow() + skewMs),
      setTimer: (delayMs, fn) => {
        if (this.#dead) return null
        const handle = base.setTimer(delayMs, () => {
          this.#timers.delete(handle)
          if (!this.#dead) fn()
        })
        this.#timers.set(handle, base)
        return handle
      },
      clearTimer: handle => {
        if (handle === null) return
        this.#timers.delete(handle)
        base.clearTimer(handle)
      }
    }
  }

  // no openMulticast: a testnet node runs without mDNS (testnet.ts sets mdns false), so a kill
  // has no multicast socket to close
  #sockets (base: DatagramSockets): DatagramSockets {
    return {
      bind: async opts => {
        const t = await base.bind(opts)
        const send = t.send.bind(t)
        t.send = (to, bytes) => { if (!this.#dead) send(to, bytes) }
        const close = t.close.bind(t)
        t.close = async () => { this.#transports.delete(t); await close() }
        this.#transports.add(t)
        return t
      }
    }
  }

  #storage (base: Storage): Storage {
    return {
      openDb: async dir => this.#gateDb(await base.openDb(dir)),
      readFile: async path => await base.readFile(path),
      writeFileAtomic: async (path, bytes) => { if (this.#dead) return await never(); await this.#track(base.writeFileAtomic(path, bytes)) },
      rename: async (from, to) => { if (this.#dead) return await never(); await this.#track(base.rename(from, to)) },
      remove: async path => { if (this.#dead) return await never(); await this.#track(base.remove(path)) },
      list: async dir => await base.list(dir)
    }
  }

  // Every write of the store reaches the root database: put, del and array batches (sublevels
  // forward theirs to it) and chained batches. Own properties shadow the prototype's methods;
  // the simulator's storage hands the next run the same database object, which this run's
  // gates then replace.
  #gateDb (db: LevelDb): LevelDb {
    this.#dbs.add(db)
    const gated = db as unknown as Record<string, Method>
    const original = originalWrites(db)
    for (const name of ['put', 'del', 'clear'] as const) {
      gated[name] = (...args) => this.#dead ? never() : this.#track(original[name](...args) as Promise<unknown>)
    }
    gated.batch = (...args) => {
      if (args.length > 0) return this.#dead ? never() : this.#track(original.batch(...args) as Promise<unknown>)
      const chained = original.batch() as { write: (...a: unknown[]) => Promise<unknown> }
      const write = chained.write.bind(chained)
      chained.write = async (...a) => this.#dead ? await never() : await this.#track(write(...a))
      return chained
    }
    return db
  }
}

type Method = (...args: unknown[]) => unknown
type Writes = Record<'put' | 'del' | 'clear' | 'batch', Method>
const originals = new WeakMap<LevelDb, Writes>()

/** The database's own write methods, bound, as they were before any run gated them. */
function originalWrites (db: LevelDb): Writes {
  let w = originals.get(db)
  if (w === undefined) {
    const m = db as unknown as Record<string, Method>
    w = { put: m.put!.bind(db), del: m.del!.bind(db), clear: m.clear!.bind(db), batch: m.batch!.bind(db) }
    originals.set(db, w)
  }
  return w
}
