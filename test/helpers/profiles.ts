// Temp homes with a fresh identity, made through the real `dmess init`.
import { runCli, tempHome } from './cli.js'

export const PW = { DMESS_PASSPHRASE: 'correct horse battery staple' }

export async function initHome (t: Parameters<typeof tempHome>[0], name: string): Promise<{ home: string, fingerprint: string, invite: string }> {
  const home = await tempHome(t)
  const r = await runCli(['init', '--name', name, '--json', '--home', home], { env: PW })
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`)
  const j = JSON.parse(r.stdout) as { fingerprint: string, invite: string }
  return { home, ...j }
}
