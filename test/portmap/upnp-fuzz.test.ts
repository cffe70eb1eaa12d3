// A seeded fuzz of the UPnP IGD readers (proto-spec/portmap.md §5): mutations of the spec's SSDP
// and SOAP texts and of a device description — byte mutations and splices of XML's own tokens —
// never throw, and whatever is accepted keeps the promises the client relies on (a LOCATION of
// bounded size; a control URL that is plain http on the router's address). Bounded in count only
// (the verdict is about every input, not this machine's speed; tap's per-file timeout in .taprc
// guards against a hang); the figures, time included, go out as JSON lines.
import t from 'tap'
import { testSeed } from '../helpers/seed.js'
import { specText } from '../helpers/spec-vectors.js'
import { int, mutate, randomBuf, rng } from '../wire/fuzz.js'
import { parseSsdpAnswer } from '../../src/portmap/ssdp.js'
import { decodeSoapResponse, parseDescription } from '../../src/portmap/igd.js'
import { parseXml } from '../../src/portmap/xml.js'
import { descriptionXml } from './fake-igd.js'

const ROUNDS = 20_000
const HOST = '192.168.1.1'
const LOCATION = `http://${HOST}:5000/rootDesc.xml`

const TOKENS = ['<', '>', '</', '/>', '&', '&amp;', '&lt;', '&#65;', '&#x0;', '&e;', '<!DOCTYPE r [<!ENTITY e "x">]>', '<![CDATA[', ']]>', '<!--', '-->', '<?', '?>', '"', "'",
  '<URLBase>http://10.0.0.1/</URLBase>', '<controlURL>http://evil.example/</controlURL>', '<service>', '</service>', 'http://', ':', '\r\n', '\u0000', '\ud800']

function textBlocks (): string[] {
  return [...specText('portmap.md').matchAll(/<!-- text [\w-]+ -->\s*```\n([\s\S]*?)```/g)].map(m => m[1]!.replace(/\n/g, '\r\n'))
}

t.test('the SSDP, XML, description and SOAP readers never throw, and what they accept is safe to use', async t => {
  const seed = testSeed(t, 0x1900, 'UPnP reader fuzz')
  const r = rng(seed)
  const enc = new TextEncoder()
  const dec = new TextDecoder()
  const corpus = [...textBlocks(), descriptionXml('urn:schemas-upnp-org:service:WANIPConnection:1', '/ctl/IPConn'), descriptionXml('urn:schemas-upnp-org:service:WANIPConnection:2', 'ctl')]
  const pool = corpus.map(s => enc.encode(s))
  const started = performance.now()
  let rounds = 0
  let problems = 0
  const accepted = { ssdp: 0, xml: 0, description: 0, soap: 0 }
  for (; rounds < ROUNDS; rounds++) {
    let text: string
    let raw: Uint8Array
    const pick = r()
    if (pick < 0.45) {
      raw = mutate(r, pool[int(r, pool.length)]!, pool)
      text = dec.decode(raw)
    } else if (pick < 0.95) {
      // splice XML's own tokens into a valid document: reaches the parser's branches
      let s = corpus[int(r, corpus.length)]!
      for (let k = 1 + int(r, 4); k > 0; k--) {
        const at = int(r, s.length + 1)
        s = s.slice(0, at) + TOKENS[int(r, TOKENS.length)]! + s.slice(r() < 0.3 ? at + int(r, 8) : at)
      }
      text = s
      raw = enc.encode(s)
    } else {
      raw = randomBuf(r, int(r, 300))
      text = dec.decode(raw)
    }
    try {
      const a = parseSsdpAnswer(raw)
      if (a !== null) {
        accepted.ssdp++
        if (a.location === '' || a.location.length > 512 || a.searchTarget === '') { problems++; t.fail(`SSDP accepted without a usable LOCATION/ST: ${JSON.stringify(a)}`) }
      }
      const x = parseXml(text)
      if (x.ok) accepted.xml++
      else if (x.error.includes('\n')) { problems++; t.fail(`a multi-line XML error: ${x.error}`) }
      const d = parseDescription(text, LOCATION, HOST)
      if (d.ok) {
        accepted.description++
        const u = new URL(d.service.controlUrl)
        if (u.protocol !== 'http:' || u.hostname !== HOST || u.username !== '') { problems++; t.fail(`a control URL off the router was accepted: ${d.service.controlUrl}`) }
      }
      const s = decodeSoapResponse(text, 'AddPortMapping')
      if (s.kind !== 'malformed') accepted.soap++
      if (s.kind === 'fault' && (!Number.isInteger(s.code) || s.code < 0)) { problems++; t.fail(`a fault with code ${s.code}`) }
    } catch (err) {
      problems++
      t.fail(`a reader threw on ${JSON.stringify(text.slice(0, 200))}: ${(err as Error).message}`)
    }
  }
  const ms = performance.now() - started
  t.comment(JSON.stringify({ metric: 'upnp_fuzz_inputs', value: rounds, unit: 'inputs' }))
  for (const [k, v] of Object.entries(accepted)) t.comment(JSON.stringify({ metric: `upnp_fuzz_accepted_${k}`, value: v, unit: 'inputs' }))
  t.comment(JSON.stringify({ metric: 'upnp_fuzz_rate', value: Math.round(rounds / (ms / 1000)), unit: 'inputs/s' }))
  t.equal(problems, 0, `${rounds} inputs, none threw or was accepted unsafely`)
  t.ok(accepted.ssdp > 0 && accepted.description > 0 && accepted.soap > 0, `mutated inputs are still accepted sometimes (the fuzz reaches the field readers): ${JSON.stringify(accepted)}`)
})
