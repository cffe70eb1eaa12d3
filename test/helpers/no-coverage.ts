// The environment for a child process whose coverage must not count: tap records a child's
// coverage through @tapjs/processinfo in NODE_OPTIONS, and only when the child exits by itself. A
// child killed at a random moment (the crash tests) then adds its coverage to some runs and not to
// others, mapped through tsx's one-line modules (see .taprc), which moved the store's function
// coverage between 70% and 100% from run to run; the code it runs is covered in process anyway.
export function envWithoutCoverage (env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const options = (env.NODE_OPTIONS ?? '').split(/\s+/).filter(o => o !== '' && !o.includes('@tapjs/processinfo'))
  const { NODE_OPTIONS: _dropped, ...rest } = env
  return options.length > 0 ? { ...rest, NODE_OPTIONS: options.join(' ') } : rest
}
