#!/usr/bin/env node
// Writes the man pages (a step of `npm run build`, after oclif-manifest.mjs): man/dmess.1, the
// overview, and man/dmess-<command>.1 for each command, from the same metadata `dmess help`
// prints (oclif.manifest.json: descriptions, arguments, flags, examples), so the two cannot
// drift. roff with the man(7) macros; package.json "directories.man" installs them with the
// package (`npm install -g`, then `man dmess-send`). Generated, never committed (.gitignore).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = 'dmess'

/**
 * Text as roff shows it: backslashes escaped, a line that starts with . or ' is not a request, and
 * characters outside ASCII as \[uXXXX] (groff_char(7); mandoc reads them too), whatever the
 * formatter assumes the input encoding to be.
 */
export function roffText (text) {
  return String(text)
    .replace(/\\/g, '\\e')
    .replace(/[^ -~\n\t]/gu, c => `\\[u${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n')
    .map(line => /^[.']/.test(line) ? '\\&' + line : line)
    .join('\n')
}

/** A name or an option as roff should print it: hyphens as \- (so they copy as ASCII minus). */
const dash = s => roffText(s).replace(/-/g, '\\-')

const pageName = id => [BIN, ...id.split(':')].join('-')
const words = id => [BIN, ...id.split(':')].join(' ')
const example = e => roffText(String(typeof e === 'string' ? e : e.command).replace(/<%=\s*config\.bin\s*%>/g, BIN))

function flagUsage (f) {
  const name = `\\fB\\-\\-${dash(f.name)}\\fR`
  const short = f.char ? `\\fB\\-${dash(f.char)}\\fR, ` : ''
  const value = f.type === 'option' ? ` \\fI${f.options ? roffText(f.options.join('|')) : 'value'}\\fR` : ''
  return short + name + value
}

function flagText (f) {
  const parts = [sentence(roffText(f.description ?? ''))]
  if (f.type === 'boolean' && f.allowNo) parts.push(`(\\fB\\-\\-no\\-${dash(f.name)}\\fR to turn it off)`)
  if (f.multiple) parts.push('May be given more than once.')
  if (f.default !== undefined && f.default !== false) parts.push(`Default: ${roffText(String(f.default))}.`)
  return parts.filter(Boolean).join(' ')
}

/** One command's page. */
export function commandPage (cmd, version) {
  const name = pageName(cmd.id)
  const args = Object.values(cmd.args ?? {})
  const flags = Object.values(cmd.flags ?? {}).filter(f => !f.hidden)
  const own = flags.filter(f => f.helpGroup !== 'GLOBAL')
  const global = flags.filter(f => f.helpGroup === 'GLOBAL')
  const synopsisArgs = args.map(a => a.required ? `\\fI${dash(a.name.toUpperCase())}\\fR` : `[\\fI${dash(a.name.toUpperCase())}\\fR]`)
  const out = [
    `.TH ${dash(name.toUpperCase())} 1 "" "${BIN} ${roffText(version)}" "dmess manual"`,
    '.SH NAME',
    `${dash(name)} \\- ${roffText(firstLine(cmd.summary ?? cmd.description ?? ''))}`,
    '.SH SYNOPSIS',
    `.B ${dash(words(cmd.id))}`,
    [...synopsisArgs, ...(flags.length > 0 ? ['[\\fIoptions\\fR]'] : [])].join(' '),
    '.SH DESCRIPTION',
    roffText(cmd.description ?? cmd.summary ?? '')
  ]
  if (args.length > 0) {
    out.push('.SH ARGUMENTS')
    for (const a of args) out.push('.TP', `\\fI${dash(a.name.toUpperCase())}\\fR${a.required ? '' : ' (optional)'}`, roffText(a.description ?? '') + (a.options ? ` One of: ${roffText(a.options.join(', '))}.` : ''))
  }
  for (const [title, list] of [['OPTIONS', own], ['GLOBAL OPTIONS', global]]) {
    if (list.length === 0) continue
    out.push(`.SH ${title}`)
    for (const f of list) out.push('.TP', flagUsage(f), flagText(f))
  }
  const examples = cmd.examples ?? []
  if (examples.length > 0) {
    out.push('.SH EXAMPLES')
    for (const e of examples) out.push('.PP', '.nf', '.RS 4', example(e), '.RE', '.fi')
  }
  out.push('.SH SEE ALSO', `.BR ${BIN} (1)`)
  return out.join('\n') + '\n'
}

/** The overview: every command with its summary, and what every command shares. */
export function overviewPage (commands, version) {
  const out = [
    `.TH ${BIN.toUpperCase()} 1 "" "${BIN} ${roffText(version)}" "dmess manual"`,
    '.SH NAME',
    `${BIN} \\- decentralized, end\\-to\\-end encrypted peer\\-to\\-peer messenger`,
    '.SH SYNOPSIS',
    `.B ${BIN}`,
    '\\fICOMMAND\\fR [\\fIarguments\\fR] [\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    'Every user runs a node; no server holds anyone\'s messages or identity. Your address is a fingerprint of your public keys.',
    `Run \\fB${BIN} help\\fR \\fICOMMAND\\fR, or see the page named below, for a command's arguments, options and examples.`,
    '.SH COMMANDS'
  ]
  for (const c of commands) out.push('.TP', `.B ${dash(words(c.id))}`, `${sentence(roffText(firstLine(c.summary ?? c.description ?? '')))} See \\fB${dash(pageName(c.id))}\\fR(1).`)
  out.push(
    '.SH ENVIRONMENT',
    '.TP', '.B DMESS_HOME', 'the home directory (keys, messages, config); \\fB\\-\\-home\\fR overrides it. Default: ~/.local/share/dmess.',
    '.TP', '.B DMESS_PASSPHRASE', 'the passphrase, when \\fB\\-\\-passphrase\\-file\\fR is not given; else a prompt that does not echo.',
    '.TP', '.B DMESS_DEBUG', 'set to 1 to print a stack trace after an error.',
    '.SH EXIT STATUS',
    '0 on success; non\\-zero after an error, which is one line on standard error.',
    '.SH SEE ALSO',
    commands.map(c => `.BR ${dash(pageName(c.id))} (1)`).join(',\n')
  )
  return out.join('\n') + '\n'
}

/** Ends with a full stop, so what follows starts a sentence. */
function sentence (text) {
  return text === '' || /[.!?:)]$/.test(text) ? text : text + '.'
}

function firstLine (text) {
  return String(text).split('\n')[0].trim()
}

/** Every page, by file name, for a manifest's visible commands. */
export function manPages (manifest, version) {
  const commands = Object.values(manifest.commands).filter(c => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))
  const pages = { [`${BIN}.1`]: overviewPage(commands, version) }
  for (const c of commands) pages[`${pageName(c.id)}.1`] = commandPage(c, version)
  return pages
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const dir = join(root, 'man')
  rmSync(dir, { recursive: true, force: true }) // a removed command leaves no page behind
  mkdirSync(dir, { recursive: true })
  const pages = manPages(manifest, version)
  for (const [file, text] of Object.entries(pages)) writeFileSync(join(dir, file), text)
  console.log(`wrote ${readdirSync(dir).length} man pages -> man/`)
}
