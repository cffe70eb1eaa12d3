// proto-spec/portmap.md §5: the UPnP IGD codecs with fixed bytes — the SSDP search and answer, the
// SOAP request and fault, read from the document itself — and the small XML reader and the
// device-description reader against hostile input: huge, deep, malformed, entity expansion,
// external entities, and URLs that point away from the router.
import t from 'tap'
import { specText } from '../helpers/spec-vectors.js'
import { encodeMSearch, parseSsdpAnswer, SSDP_MAX_BYTES } from '../../src/portmap/ssdp.js'
import { checkLanUrl, decodeSoapResponse, encodeSoapRequest, parseDescription, upnpErrorName } from '../../src/portmap/igd.js'
import { parseXml } from '../../src/portmap/xml.js'
import { descriptionXml, soapFault, soapOk } from './fake-igd.js'

/** A `<!-- text NAME -->` block of portmap.md, its lines ended with CRLF as on the wire. */
function specTextBlock (name: string): string {
  const m = new RegExp(`<!-- text ${name} -->\\s*\`\`\`\\n([\\s\\S]*?)\`\`\``).exec(specText('portmap.md'))
  if (m === null) throw new Error(`proto-spec/portmap.md has no text block ${name}`)
  return m[1]!.replace(/\n/g, '\r\n')
}
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const WANIP1 = 'urn:schemas-upnp-org:service:WANIPConnection:1'

t.test('SSDP: the M-SEARCH is the text of portmap.md §5.1; the answer there is read', async t => {
  t.equal(new TextDecoder().decode(encodeMSearch()), specTextBlock('ssdp-msearch'))
  t.same(parseSsdpAnswer(bytes(specTextBlock('ssdp-answer'))), {
    location: 'http://192.168.1.1:38553/rootDesc.xml',
    searchTarget: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
    usn: 'uuid:3c1f9a2e-2b51-4d8e-9a11-0d0e55a5a001::urn:schemas-upnp-org:device:InternetGatewayDevice:1',
    server: 'Debian/12 UPnP/1.1 MiniUPnPd/2.3.1'
  })
  t.same(parseSsdpAnswer(bytes('http/1.1 200 OK\nlocation: http://10.0.0.1:1/d.xml\nst: x\n\n')), null, 'the status line is case-sensitive (HTTP)')
  t.same(parseSsdpAnswer(bytes('HTTP/1.1 200 OK\nLocation: http://10.0.0.1:1/d.xml\nSt: x\n\n'))?.location, 'http://10.0.0.1:1/d.xml', 'header names are not; bare LF is tolerated')
  t.throws(() => encodeMSearch('bad target'), /printable ASCII/)
})

t.test('SSDP answers that are not: refused, never thrown', async t => {
  const ok = specTextBlock('ssdp-answer')
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['over 4096 bytes', bytes(ok + 'X-PAD: ' + 'a'.repeat(SSDP_MAX_BYTES) + '\r\n\r\n')],
    ['a NOTIFY', bytes(ok.replace('HTTP/1.1 200 OK', 'NOTIFY * HTTP/1.1'))],
    ['another control point\'s M-SEARCH', encodeMSearch()],
    ['a 404', bytes(ok.replace('200 OK', '404 Not Found'))],
    ['no LOCATION', bytes(ok.replace(/LOCATION:[^\r]*\r\n/, ''))],
    ['an empty LOCATION', bytes(ok.replace(/LOCATION:[^\r]*/, 'LOCATION:'))],
    ['no ST', bytes(ok.replace(/\r\nST:[^\r]*/, ''))],
    ['a header line without a colon', bytes(ok.replace('EXT:', 'EXT'))],
    ['a LOCATION of 600 characters', bytes(ok.replace(/LOCATION:[^\r]*/, 'LOCATION: http://1.2.3.4/' + 'a'.repeat(600)))],
    ['not UTF-8', Uint8Array.of(...bytes('HTTP/1.1 200 OK\r\nLOCATION: http://1.1.1.1/\xff'), 0xff, 0xfe, ...bytes('\r\nST: x\r\n\r\n'))]
  ]
  for (const [name, b] of cases) t.equal(parseSsdpAnswer(b), null, name)
})

t.test('SOAP: AddPortMapping is the body of portmap.md §5.3; answers and the fault there are read', async t => {
  const req = encodeSoapRequest(WANIP1, 'AddPortMapping', [
    ['NewRemoteHost', ''], ['NewExternalPort', 47474], ['NewProtocol', 'UDP'], ['NewInternalPort', 47474],
    ['NewInternalClient', '192.168.1.2'], ['NewEnabled', 1], ['NewPortMappingDescription', 'dmess'], ['NewLeaseDuration', 7200]
  ])
  t.equal(req.body, specTextBlock('soap-add-port-mapping'))
  t.equal(req.soapAction, `"${WANIP1}#AddPortMapping"`)
  t.same(decodeSoapResponse(specTextBlock('soap-fault-718'), 'AddPortMapping'), { kind: 'fault', code: 718, description: 'ConflictInMappingEntry' })
  t.equal(upnpErrorName(718), 'ConflictInMappingEntry')
  t.equal(upnpErrorName(999), 'error 999')
  const ip = decodeSoapResponse(soapOk(WANIP1, 'GetExternalIPAddress', { NewExternalIPAddress: '203.0.113.7' }), 'GetExternalIPAddress')
  t.same(ip, { kind: 'ok', args: new Map([['NewExternalIPAddress', '203.0.113.7']]) })
  t.same(decodeSoapResponse(soapFault(725, 'OnlyPermanentLeasesSupported').body, 'AddPortMapping'), { kind: 'fault', code: 725, description: 'OnlyPermanentLeasesSupported' })
  t.match(decodeSoapResponse(soapOk(WANIP1, 'DeletePortMapping'), 'AddPortMapping'), { kind: 'malformed', error: 'no <AddPortMappingResponse>' }, 'the answer to another action')
  t.match(decodeSoapResponse('<s:Envelope xmlns:s="x"><s:Body><s:Fault><faultstring>x</faultstring></s:Fault></s:Body></s:Envelope>', 'X'), { kind: 'malformed' }, 'a fault without a UPnP error code')
  t.match(decodeSoapResponse('<html><body>500</body></html>', 'X'), { kind: 'malformed', error: /not <Envelope>/ })
  const escaped = encodeSoapRequest(WANIP1, 'X', [['NewPortMappingDescription', '<a&"b\'>']]).body
  t.match(escaped, '<NewPortMappingDescription>&lt;a&amp;&quot;b&apos;&gt;</NewPortMappingDescription>', 'argument text is escaped')
  t.throws(() => encodeSoapRequest(WANIP1, 'Bad Action<', []), /bad SOAP action/)
})

t.test('the XML reader: what UPnP documents use', async t => {
  const r = parseXml('\ufeff<?xml version="1.0"?>\n<!-- c --><a:root xmlns:a="u" x=\'1>2\'><b>one &amp; two &lt;3&gt; &#65;&#x42;</b><c/><b><![CDATA[<raw>&]]></b></a:root>\n<!-- after -->\n')
  t.ok(r.ok)
  if (!r.ok) return
  t.equal(r.root.name, 'root', 'namespace prefix dropped')
  t.same(r.root.children.map(c => c.name), ['b', 'c', 'b'])
  t.equal(r.root.children[0]!.text, 'one & two <3> AB', 'the five predefined entities and character references')
  t.equal(r.root.children[2]!.text, '<raw>&', 'CDATA is text as it stands')
  const bare = parseXml('<r><friendlyName>AT&T router</friendlyName></r>')
  t.ok(bare.ok && bare.root.children[0]!.text === 'AT&T router', 'a bare & (a router\'s friendly name) is kept, not refused')
})

t.test('the XML reader refuses hostile and broken documents in one line', async t => {
  const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><root>&lol2;</root>'
  const cases: Array<[string, string, RegExp]> = [
    ['billion laughs', laughs, /DOCTYPE/],
    ['an external entity', '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><root>&xxe;</root>', /DOCTYPE/],
    ['an undeclared entity', '<root>&xxe;</root>', /entity reference/],
    ['a character reference to nothing', '<root>&#0;</root>', /entity reference/],
    ['a surrogate', '<root>&#xD800;</root>', /entity reference/],
    ['over the size limit', '<root>' + 'a'.repeat(70_000) + '</root>', /too large/],
    ['nested too deep', '<a>'.repeat(40) + '</a>'.repeat(40), /too deep/],
    ['too many elements', '<r>' + '<e/>'.repeat(5000) + '</r>', /too many elements/],
    ['mismatched tags', '<a><b></a></b>', /mismatched end tag/],
    ['unclosed', '<a><b></b>', /ends inside an element/],
    ['two roots', '<a/><b/>', /content after the root/],
    ['text after the root', '<a></a>junk', /content after the root/],
    ['text before the root', 'junk<a/>', /text outside the root/],
    ['empty', '', /no root element/],
    ['a bad name', '<1a></1a>', /bad element name/],
    ['an unterminated comment', '<a><!-- x</a>', /unterminated comment/],
    ['an unterminated tag', '<a x="1', /unterminated start tag/]
  ]
  for (const [name, doc, why] of cases) {
    const r = parseXml(doc)
    t.equal(r.ok, false, name)
    if (!r.ok) t.match(r.error, why, `${name}: ${r.error}`)
  }
})

t.test('device description: the best WAN service, its control URL resolved on the router, anything elsewhere refused', async t => {
  const loc = 'http://192.168.1.1:5000/rootDesc.xml'
  t.same(parseDescription(descriptionXml(WANIP1, '/ctl/IPConn'), loc, '192.168.1.1'), { ok: true, service: { serviceType: WANIP1, controlUrl: 'http://192.168.1.1:5000/ctl/IPConn' } })
  const both = descriptionXml('urn:schemas-upnp-org:service:WANPPPConnection:1', '/ppp').replace('</serviceList>', `<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType><controlURL>ctl/ip2</controlURL></service></serviceList>`)
  t.same(parseDescription(both, loc, '192.168.1.1'), { ok: true, service: { serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2', controlUrl: 'http://192.168.1.1:5000/ctl/ip2' } }, 'WANIPConnection:2 before WANPPPConnection:1; a relative URL resolves against LOCATION')
  const withBase = descriptionXml(WANIP1, '/c').replace('<specVersion>', '<URLBase>http://192.168.1.1:49000/</URLBase><specVersion>')
  t.match(parseDescription(withBase, loc, '192.168.1.1'), { ok: true, service: { controlUrl: 'http://192.168.1.1:49000/c' } }, 'URLBase, when given, is the base')
  const elsewhere = descriptionXml(WANIP1, '/c').replace('<specVersion>', '<URLBase>http://169.254.169.254/</URLBase><specVersion>')
  t.match(parseDescription(elsewhere, loc, '192.168.1.1'), { ok: false, error: /control URL refused: 169\.254\.169\.254 is not the device that answered/ }, 'a URLBase elsewhere is refused (SSRF)')
  t.match(parseDescription(descriptionXml(WANIP1, 'https://192.168.1.1/c'), loc, '192.168.1.1'), { ok: false, error: /not plain http/ })
  t.match(parseDescription(descriptionXml(WANIP1, 'http://router.local/c'), loc, '192.168.1.1'), { ok: false, error: /router\.local is not the device/ }, 'a name, not the address, is refused (no DNS)')
  t.match(parseDescription('<html/>', loc, '192.168.1.1'), { ok: false, error: /not <root>/ })
  t.match(parseDescription(descriptionXml('urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1', '/c'), loc, '192.168.1.1'), { ok: false, error: /no WANIPConnection or WANPPPConnection/ })
})

t.test('checkLanUrl: only http to the address that answered', async t => {
  t.ok(checkLanUrl('http://192.168.1.1:80/x', '192.168.1.1').ok)
  t.ok(checkLanUrl('http://3232235777/x', '192.168.1.1').ok, 'a numeric host is what it resolves to: the same address')
  for (const bad of ['http://192.168.1.2/x', 'file:///etc/passwd', 'ftp://192.168.1.1/', 'http://u:p@192.168.1.1/', 'http://localhost/', '//192.168.1.1/x', 'not a url']) {
    t.equal(checkLanUrl(bad, '192.168.1.1').ok, false, bad)
  }
})
