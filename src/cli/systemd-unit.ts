// The systemd user unit `dmess service install` writes (systemd.service(5), systemd.exec(5)).
// Pure: paths in, text out. The daemon runs in the foreground (its log goes to the journal) and
// unlocks the keystore from a systemd credential (systemd.exec(5) "Credentials": LoadCredential=
// copies the file into a directory only this service can read, on a non-swappable file system,
// and `%d` names that directory), so the passphrase is never in the unit, the environment or
// `systemctl show`.

export const UNIT_NAME = 'dmess.service'
export const CREDENTIAL_NAME = 'dmess-passphrase'

export interface UnitInputs {
  /** absolute path of the node executable */
  node: string
  /** absolute path of bin/run.js */
  bin: string
  /** absolute path of the dmess home */
  home: string
  /** absolute path of the file holding the passphrase */
  passphraseFile: string
}

/** One word of a command line as systemd reads it: quoted, with `%` and `$` doubled so systemd expands neither. */
export function unitWord (s: string): string {
  const escaped = s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) && !s.includes('%') ? s : `"${escaped}"`
}

/** A value outside a command line: only specifiers are expanded there. */
function unitValue (s: string): string {
  return s.replace(/%/g, '%%')
}

export function unitText (u: UnitInputs): string {
  if (/[\n\r]/.test(Object.values(u).join(''))) throw new Error('a path in the unit has a line break')
  return `# Written by \`dmess service install\`; \`dmess service uninstall\` removes it.
[Unit]
Description=dmess node for ${unitValue(u.home)}

[Service]
Type=exec
ExecStart=${[u.node, u.bin, 'daemon', '--home', u.home].map(unitWord).join(' ')} --passphrase-file %d/${CREDENTIAL_NAME}
# the passphrase, from the file named at install (read when the service starts)
LoadCredential=${CREDENTIAL_NAME}:${unitValue(u.passphraseFile)}
# \`dmess stop\` ends it with exit code 0: not restarted; a crash is
Restart=on-failure
RestartSec=5
# SIGTERM: the daemon says goodbye to its peers and closes the store
KillSignal=SIGTERM
TimeoutStopSec=30
UMask=0077
NoNewPrivileges=yes

[Install]
WantedBy=default.target
`
}
