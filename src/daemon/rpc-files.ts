// The file-transfer IPC methods (proto-spec/ipc.md §4.4, proto-spec/files.md): they need the
// running daemon's file service. Parameters are checked here; semantics live in src/files/service.ts.
// (Only types come from rpc-methods.ts: it imports this file.)
import { isAbsolute } from 'node:path'
import { errors } from '../errors.js'
import { resolveContact } from '../app/contacts.js'
import type { FileService } from '../files/service.js'
import type { TransferJson } from '../files/transfer.js'
import { invalidParams } from './protocol.js'
import type { MethodContext } from './rpc-methods.js'

type P = Record<string, unknown>

/** Files per files.send call at most. */
export const SEND_FILES_MAX = 100
const MAX_PATH_BYTES = 4096

export interface FilesSpec {
  'files.send': { params: { contact: string, paths: string[] }, result: TransferJson[] }
  'files.list': { params: Record<string, never>, result: TransferJson[] }
  'files.accept': { params: { id: string }, result: TransferJson }
  'files.decline': { params: { id: string }, result: TransferJson }
  'files.cancel': { params: { id: string }, result: TransferJson }
  'files.resume': { params: { id: string }, result: TransferJson }
}

function str (p: P, key: string, max = MAX_PATH_BYTES): string {
  const v = p[key]
  if (typeof v !== 'string' || v === '') throw invalidParams(`"${key}" must be a non-empty string`)
  if (Buffer.byteLength(v) > max) throw invalidParams(`"${key}" is longer than ${max} bytes`)
  return v
}

function paths (p: P): string[] {
  const v = p.paths
  if (!Array.isArray(v) || v.length === 0 || v.length > SEND_FILES_MAX) throw invalidParams(`"paths" must be an array of 1–${SEND_FILES_MAX} absolute paths`)
  return v.map((x, i) => {
    const s = str({ path: x }, 'path')
    if (!isAbsolute(s)) throw invalidParams(`"paths[${i}]" must be an absolute path`)
    return s
  })
}

function needFiles (ctx: MethodContext): FileService {
  if (ctx.files === undefined) throw errors.DAEMON_NOT_RUNNING('this needs a running daemon (start one with `dmess daemon --detach`)')
  return ctx.files
}

type Handler = (ctx: MethodContext, p: P) => Promise<unknown>

export const FILES_METHODS: Record<keyof FilesSpec, Handler> = {
  'files.send': async (ctx, p) => {
    const files = needFiles(ctx)
    const list = paths(p)
    const c = await resolveContact(ctx.store, str(p, 'contact'))
    // every path is checked before any is offered: a directory among them refuses the whole call
    for (const path of list) await files.check(path)
    const out: TransferJson[] = []
    for (const path of list) out.push(await files.send(c.fingerprint, path))
    return out
  },
  'files.list': async ctx => needFiles(ctx).list(),
  'files.accept': async (ctx, p) => await needFiles(ctx).accept(str(p, 'id', 64)),
  'files.decline': async (ctx, p) => await needFiles(ctx).decline(str(p, 'id', 64)),
  'files.cancel': async (ctx, p) => await needFiles(ctx).cancel(str(p, 'id', 64)),
  'files.resume': async (ctx, p) => await needFiles(ctx).resume(str(p, 'id', 64))
}
