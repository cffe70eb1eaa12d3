// The lab gate every test/lab file opens with (scripts/lab/netns.ts labReady): a missing
// prerequisite fails the test under CI=true and skips it with the reason elsewhere; with none
// missing the lab runs. Needs no root: the prerequisites are stand-ins.
import t from 'tap'
import { labReady, labUnavailableReason } from '../../scripts/lab/netns.js'

function fakeTest (): { fails: string[], plans: Array<[number, string]>, fail: (m: string) => void, plan: (n: number, c: string) => void } {
  const r = { fails: [] as string[], plans: [] as Array<[number, string]> }
  return { ...r, fail: (m) => { r.fails.push(m) }, plan: (n, c) => { r.plans.push([n, c]) } }
}

t.test('a missing prerequisite fails under CI=true and skips elsewhere; the first missing one is named', async t => {
  const saved = process.env.CI
  t.teardown(() => { if (saved === undefined) delete process.env.CI; else process.env.CI = saved })
  const asked: string[] = []
  const missing = (name: string, reason: string | null) => () => { asked.push(name); return reason }
  const base = labUnavailableReason() // on a host without root this is the reason named
  process.env.CI = 'true'
  const ci = fakeTest()
  t.equal(labReady(ci, 'the test lab', missing('a', null), missing('b', 'b is not installed'), missing('c', 'c neither')), false, 'not ready')
  const reason = base ?? 'b is not installed'
  t.same(ci.fails, [`the test lab must run in CI, but: ${reason}`], 'CI: the test fails with the reason')
  t.same(ci.plans, [], 'CI: nothing skipped')
  if (base === null) t.same(asked, ['a', 'b'], 'checks run in order until one is missing')
  delete process.env.CI
  const dev = fakeTest()
  t.equal(labReady(dev, 'the test lab', missing('b', 'b is not installed')), false)
  t.same(dev.fails, [], 'elsewhere: no failure')
  t.same(dev.plans, [[0, base ?? 'b is not installed']], 'elsewhere: skipped with the reason')
  if (base === null) {
    const ok = fakeTest()
    t.equal(labReady(ok, 'the test lab', missing('a', null)), true, 'nothing missing: the lab runs')
    t.same([ok.fails, ok.plans], [[], []])
  }
})
