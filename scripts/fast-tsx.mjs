// tsx's loader for scripts/fast-run.mjs, with its compile cache in the machine's temporary
// directory rather than the test's: `npm test` gives every test a fresh TMPDIR, where tsx (which
// caches in os.tmpdir()) would compile every source file again in every test process.
const testTmp = process.env.TMPDIR
if (process.env.TSX_CACHE_TMPDIR) process.env.TMPDIR = process.env.TSX_CACHE_TMPDIR
try {
  await import('tsx')
} finally {
  if (testTmp === undefined) delete process.env.TMPDIR
  else process.env.TMPDIR = testTmp
  delete process.env.TSX_CACHE_TMPDIR
}
