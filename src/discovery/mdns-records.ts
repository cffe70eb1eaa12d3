// Building our DNS-SD record set and the responses to mDNS questions (proto-spec/discovery.md §2,
// §3). Pure: records and packets in, records and packets out; no sockets, no clock.
import type { Answer, Packet, Question } from 'dns-packet'
import {
  SERVICE_TYPE, SERVICES_ENUMERATION, HOST_RECORD_TTL_S, OTHER_RECORD_TTL_S, MAX_LABEL_BYTES,
  TXT_TOKEN, TXT_VERSION, LEGACY_UNICAST_MAX_TTL_S, TOKEN_PATTERN, LABEL_PATTERN_HEX,
  KNOWN_ANSWER_MIN_FRACTION, MDNS_PORT, MIN_PROTOCOL_VERSION, MAX_PROTOCOL_VERSION
} from './constants.js'
import { errors } from '../errors.js'

/**
 * What we publish about ourselves during one token window (discovery.md §2): nothing in it names
 * our identity. The token is recognisable only by those who know our fingerprint (token.ts).
 */
export interface LocalService {
  /** This window's discovery token (TXT `t`, 32 hex characters). */
  token: string
  /** This window's random instance label (16 hex characters): tells two runs of one identity apart. */
  label: string
  /** Our dmess UDP port (SRV). */
  port: number
  protocolVersion: number
  /** Our host's single label under `.local` (SRV target). */
  hostLabel: string
  /** One TTL (seconds) for all our records instead of RFC 6762 §10's 120 / 4500. */
  ttl?: number
}

/** Addresses of the one interface a packet goes out on (RFC 6762 §6.2: only that link's). */
export interface InterfaceAddresses {
  ipv4: string[]
  ipv6: string[]
}

const LABEL_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/

/** `<label>._dmess._udp.local`: the label is random per window, nothing about who we are. */
export function instanceName (svc: Pick<LocalService, 'label'>): string {
  return `${svc.label}.${SERVICE_TYPE}`
}

/** `dmess-<label>`: the host label rotates with the instance label unless the user chose one. */
export function defaultHostLabel (label: string): string {
  return `dmess-${label}`
}

export function hostName (svc: Pick<LocalService, 'hostLabel'>): string {
  return `${svc.hostLabel}.local`
}

/** Accepts `name` or `name.local`; returns the label, or throws BAD_ARGUMENT. */
export function normalizeHostLabel (hostname: string): string {
  const label = hostname.toLowerCase().replace(/\.local\.?$/, '')
  if (label.length > MAX_LABEL_BYTES || !LABEL_PATTERN.test(label)) {
    throw errors.BAD_ARGUMENT(`mDNS host name must be one label of 1..${MAX_LABEL_BYTES} characters a-z, 0-9 and '-' ` +
      `(optionally followed by .local), got '${hostname}'`)
  }
  return label
}

/** Checks a LocalService once, at construction (local misuse throws; the network never does). */
export function checkLocalService (svc: LocalService): void {
  if (!LABEL_PATTERN_HEX.test(svc.label)) throw errors.BAD_ARGUMENT(`mDNS instance label must be 16 hex characters, got '${svc.label}'`)
  if (!TOKEN_PATTERN.test(svc.token)) throw errors.BAD_ARGUMENT(`mDNS token must be 32 hex characters, got '${svc.token}'`)
  if (!Number.isInteger(svc.port) || svc.port < 1 || svc.port > 65535) {
    throw errors.BAD_ARGUMENT(`port must be an integer 1..65535, got ${svc.port}`)
  }
  const v = svc.protocolVersion
  if (!Number.isInteger(v) || v < MIN_PROTOCOL_VERSION || v > MAX_PROTOCOL_VERSION) {
    throw errors.BAD_ARGUMENT(`protocol version must be ${MIN_PROTOCOL_VERSION}..${MAX_PROTOCOL_VERSION}, got ${v}`)
  }
  if (svc.ttl !== undefined && (!Number.isInteger(svc.ttl) || svc.ttl < 1 || svc.ttl > OTHER_RECORD_TTL_S)) {
    throw errors.BAD_ARGUMENT(`mDNS ttl must be an integer 1..${OTHER_RECORD_TTL_S} seconds, got ${svc.ttl}`)
  }
  normalizeHostLabel(svc.hostLabel)
}

/** Our record set on one interface (discovery.md §2.1). */
export interface LocalRecords {
  enumeration: Answer
  ptr: Answer
  srv: Answer
  txt: Answer
  addresses: Answer[]
}

export function localRecords (svc: LocalService, addrs: InterfaceAddresses): LocalRecords {
  const hostTtl = svc.ttl ?? HOST_RECORD_TTL_S
  const otherTtl = svc.ttl ?? OTHER_RECORD_TTL_S
  const instance = instanceName(svc)
  const host = hostName(svc)
  return {
    // Shared records (PTR): many hosts answer them, so no cache-flush bit (RFC 6762 §10.2).
    enumeration: { name: SERVICES_ENUMERATION, type: 'PTR', ttl: otherTtl, data: SERVICE_TYPE },
    ptr: { name: SERVICE_TYPE, type: 'PTR', ttl: otherTtl, data: instance },
    // Unique records: ours alone, cache-flush bit set (RFC 6762 §10.2).
    srv: { name: instance, type: 'SRV', ttl: hostTtl, flush: true, data: { priority: 0, weight: 0, port: svc.port, target: host } },
    txt: { name: instance, type: 'TXT', ttl: otherTtl, flush: true, data: encodeTxt(txtFields(svc)) },
    addresses: [
      ...addrs.ipv4.map((a): Answer => ({ name: host, type: 'A', ttl: hostTtl, flush: true, data: a })),
      ...addrs.ipv6.map((a): Answer => ({ name: host, type: 'AAAA', ttl: hostTtl, flush: true, data: a }))
    ]
  }
}

export function allRecords (r: LocalRecords): Answer[] {
  return [r.enumeration, r.ptr, r.srv, r.txt, ...r.addresses]
}

/** discovery.md §2.3: t, v — in that order. */
function txtFields (svc: LocalService): Array<[string, string]> {
  return [[TXT_TOKEN, svc.token], [TXT_VERSION, String(svc.protocolVersion)]]
}

/** RFC 6763 §6.3: one `key=value` character-string per pair. */
function encodeTxt (fields: Array<[string, string]>): Buffer[] {
  return fields.map(([k, v]) => Buffer.from(`${k}=${v}`, 'utf8'))
}

/** RFC 6762 §8.3: an unsolicited response with every record in the answer section. */
export function announcement (records: LocalRecords): Packet {
  return { type: 'response', id: 0, flags: 0, answers: allRecords(records) }
}

/** RFC 6762 §10.1: the same records with TTL 0. */
export function goodbye (answers: Answer[]): Packet {
  return { type: 'response', id: 0, flags: 0, answers: answers.map(a => ({ ...a, ttl: 0 }) as Answer) }
}

// ---- answering questions ----

/** How a question's class reads: RFC 6762 §5.4 puts the QU bit in the top bit of the class. */
export interface QuestionClass { qu: boolean, any: boolean }

/**
 * dns-packet turns the class into a string before it masks the QU bit, so a QU question in class
 * IN arrives as `UNKNOWN_32769` (0x8001) and in class ANY as `UNKNOWN_33023` (0x80ff).
 */
export function questionClass (q: Question): QuestionClass | null {
  switch ((q.class as string | undefined) ?? 'IN') {
    case 'IN': return { qu: false, any: false }
    case 'ANY': return { qu: false, any: true }
    case 'UNKNOWN_32769': return { qu: true, any: false }
    case 'UNKNOWN_33023': return { qu: true, any: true }
    default: return null
  }
}

export interface ResponsePlan {
  answers: Answer[]
  additionals: Answer[]
  /** Every answered question asked for a unicast reply (RFC 6762 §5.4). */
  qu: boolean
  /** The query came from a port other than 5353: a legacy resolver (RFC 6762 §6.7). */
  legacy: boolean
  /** Shared records are in the answer: wait 20–120 ms before multicasting (RFC 6762 §6). */
  delay: boolean
}

/**
 * What to answer to `query` from our `records` (RFC 6762 §6, RFC 6763 §12), or null when
 * nothing is ours. Known answers in the query suppress ours (RFC 6762 §7.1).
 */
export function planResponse (query: Packet, sourcePort: number, records: LocalRecords): ResponsePlan | null {
  const answers: Answer[] = []
  let allQu = true
  for (const q of query.questions ?? []) {
    const cls = questionClass(q)
    if (cls === null) continue
    const matched = answersTo(q, records)
    if (matched.length === 0) continue
    allQu &&= cls.qu
    for (const a of matched) if (!answers.includes(a)) answers.push(a)
  }
  const kept = answers.filter(a => !suppressedByKnownAnswer(a, query.answers ?? []))
  if (kept.length === 0) return null
  const additionals = additionalsFor(kept, records).filter(a => !kept.includes(a))
  return {
    answers: kept,
    additionals,
    qu: allQu,
    legacy: sourcePort !== MDNS_PORT,
    delay: kept.some(a => a.type === 'PTR')
  }
}

function answersTo (q: Question, r: LocalRecords): Answer[] {
  const name = q.name.toLowerCase()
  const type = q.type as string
  const wants = (t: string): boolean => type === t || type === 'ANY'
  const out: Answer[] = []
  if (name === SERVICES_ENUMERATION && wants('PTR')) out.push(r.enumeration)
  if (name === SERVICE_TYPE && wants('PTR')) out.push(r.ptr)
  if (name === r.srv.name.toLowerCase()) {
    if (wants('SRV')) out.push(r.srv)
    if (wants('TXT')) out.push(r.txt)
  }
  if (r.addresses.length > 0 && name === (r.addresses[0]?.name ?? '').toLowerCase()) {
    out.push(...r.addresses.filter(a => wants(a.type)))
  }
  return out
}

/** RFC 6763 §12.1: PTR → SRV, TXT, addresses; §12.2: SRV → addresses. */
function additionalsFor (answers: Answer[], r: LocalRecords): Answer[] {
  const out: Answer[] = []
  const add = (a: Answer): void => { if (!out.includes(a)) out.push(a) }
  for (const a of answers) {
    if (a === r.ptr) { add(r.srv); add(r.txt) }
    if (a === r.ptr || a === r.srv) r.addresses.forEach(add)
  }
  return out
}

/** RFC 6762 §7.1: same name, type and data, with at least half our TTL left. */
export function suppressedByKnownAnswer (ours: Answer, known: Answer[]): boolean {
  return known.some(k =>
    k.name.toLowerCase() === ours.name.toLowerCase() && k.type === ours.type &&
    ((k as { ttl?: number }).ttl ?? 0) >= ((ours as { ttl?: number }).ttl ?? 0) * KNOWN_ANSWER_MIN_FRACTION &&
    sameData(ours, k))
}

function sameData (a: Answer, b: Answer): boolean {
  const da = (a as { data?: unknown }).data
  const db = (b as { data?: unknown }).data
  if (typeof da === 'string' && typeof db === 'string') return da.toLowerCase() === db.toLowerCase()
  if (a.type === 'SRV') {
    const sa = da as { port: number, target: string }
    const sb = db as { port?: unknown, target?: unknown } | undefined
    return sb?.port === sa.port && typeof sb.target === 'string' && sb.target.toLowerCase() === sa.target.toLowerCase()
  }
  if (a.type === 'TXT') {
    const ta = da as Buffer[]
    return Array.isArray(db) && db.length === ta.length && ta.every((s, i) => Buffer.isBuffer(db[i]) && s.equals(db[i] as Buffer))
  }
  return false
}

/** The packet that carries a plan: multicast/QU form (RFC 6762 §6) or legacy unicast (§6.7). */
export function responsePacket (plan: ResponsePlan, query: Packet): Packet {
  if (!plan.legacy) return { type: 'response', id: 0, flags: 0, answers: plan.answers, additionals: plan.additionals }
  const legacy = (a: Answer): Answer =>
    ({ ...a, flush: false, ttl: Math.min((a as { ttl?: number }).ttl ?? 0, LEGACY_UNICAST_MAX_TTL_S) }) as Answer
  return {
    type: 'response',
    id: query.id ?? 0, // §6.7: echo the query ID and repeat the question
    flags: 0,
    questions: (query.questions ?? []).map(q => ({ name: q.name, type: q.type, class: 'IN' })),
    answers: plan.answers.map(legacy),
    additionals: plan.additionals.map(legacy)
  }
}

/** A stable key for a record: used to rate-limit multicasts of it (RFC 6762 §6). */
export function recordKey (a: Answer): string {
  return `${a.name.toLowerCase()}|${a.type}|${JSON.stringify((a as { data?: unknown }).data)}`
}

/** Our continuous browsing query (RFC 6762 §5.2), with known answers (§7.1). */
export function browseQuery (knownAnswers: Answer[]): Packet {
  return { type: 'query', id: 0, flags: 0, questions: [{ name: SERVICE_TYPE, type: 'PTR', class: 'IN' }], answers: knownAnswers }
}
