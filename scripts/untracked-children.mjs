// Loaded into every test process (.taprc node-arg): the children a test starts run without tap's
// coverage hook. tap measures coverage with @tapjs/processinfo, which it hands to every child (it
// puts itself in NODE_OPTIONS and its variables in the environment at each spawn, through
// process-on-spawn). The children tests start run the built binary (dist/, outside the coverage)
// or sources under tsx (whose one-line modules map to the wrong lines), so what they record is
// wasted, and it is not free: the hook's module loader and V8's precise coverage take a `dmess`
// command from 0.27 to 0.45 s of CPU and slow every daemon. This process keeps its own coverage.
//
// process-on-spawn keeps its listeners in a process-wide singleton; ours runs after tap's and takes
// back what it added. Without that singleton (another tap) children keep the hook: slower, not wrong.
const state = globalThis[Symbol.for('process-on-spawn@*:singletonId')]
const TAP_VARIABLE = /^_TAPJS_PROCESSINFO_/

function withoutHook (options) {
  const env = {}
  for (const [k, v] of Object.entries(options.env)) {
    if (TAP_VARIABLE.test(k)) continue
    if (k === 'NODE_OPTIONS') {
      const kept = v.split(/\s+/).filter(o => o !== '' && !o.includes('@tapjs/processinfo'))
      if (kept.length > 0) env[k] = kept.join(' ')
      continue
    }
    env[k] = v
  }
  options.env = env
}

if (state !== undefined && Array.isArray(state.listeners)) state.listeners.push(withoutHook)
