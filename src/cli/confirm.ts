// A yes/no question on the terminal. Without a terminal the answer is "no": scripts pass --yes.
import { createInterface } from 'node:readline/promises'

export async function confirm (question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(`${question} [y/N] `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}
