// The ink components: thin shells that turn key presses, clock ticks and terminal resizes into
// inputs for the state machines and paint the rows they compute.
import { useApp, useInput, useStdin, useStdout } from 'ink'
import { useEffect, useRef, useState, useSyncExternalStore, type ReactElement } from 'react'
import { errors } from '../errors.js'
import type { ChatController } from './controller.js'
import { fromInk, type InkKey } from './key-press.js'
import { initialPicker, reducePicker, type PickerOutcome } from './picker.js'
import { chatScreen, pickerScreen } from './screen.js'
import type { ConversationSummary } from './types.js'
import { Screen } from './view.js'

/** How often the clock advances the state (typing timeouts, notices). */
export const TICK_MS = 250
/** How often the screen is drawn again without a change of state: what depends on the clock alone ("last seen 5 min ago", a link connecting too long). Ink writes only frames that differ. */
export const REDRAW_MS = 5000

export const NEEDS_TERMINAL = 'dmess chat needs an interactive terminal (stdin is not a TTY)'

/** Without raw mode, useInput would throw: leave with the one-line error instead. */
function useTerminalGuard (): boolean {
  const { isRawModeSupported } = useStdin()
  const { exit } = useApp()
  useEffect(() => {
    if (!isRawModeSupported) exit(errors.NOT_A_TERMINAL(NEEDS_TERMINAL))
  }, [isRawModeSupported, exit])
  return isRawModeSupported
}

function useTerminalSize (onResize: (cols: number, rows: number) => void): { cols: number, rows: number } {
  const { stdout } = useStdout()
  const read = (): { cols: number, rows: number } => ({ cols: stdout.columns > 0 ? stdout.columns : 80, rows: stdout.rows > 0 ? stdout.rows : 24 })
  const [size, setSize] = useState(read)
  useEffect(() => {
    const handler = (): void => { const s = read(); setSize(s); onResize(s.cols, s.rows) }
    stdout.on('resize', handler)
    return () => { stdout.off('resize', handler) }
  }, [stdout])
  return size
}

export function ChatApp ({ controller, redrawMs = REDRAW_MS }: { controller: ChatController, redrawMs?: number }): ReactElement {
  const { exit } = useApp()
  const active = useTerminalGuard()
  const state = useSyncExternalStore(controller.subscribe, controller.getState)
  useTerminalSize((cols, rows) => controller.dispatch({ type: 'resize', cols, rows }))

  useEffect(() => {
    controller.onQuit(() => exit())
    controller.start()
  }, [controller, exit])

  useEffect(() => {
    const timer = setInterval(() => controller.dispatch({ type: 'tick', now: controller.now }), TICK_MS)
    return () => clearInterval(timer)
  }, [controller])

  const [, setRedraws] = useState(0)
  useEffect(() => {
    const timer = setInterval(() => setRedraws(n => n + 1), redrawMs)
    return () => clearInterval(timer)
  }, [redrawMs])

  useInput((input: string, key: InkKey) => {
    for (const k of fromInk(input, key)) controller.dispatch({ type: 'key', key: k, now: controller.now })
  }, { isActive: active })

  return <Screen rows={chatScreen(state, controller.now)} />
}

export interface PickerAppProps {
  items: readonly ConversationSummary[]
  onDone: (outcome: Exclude<PickerOutcome, null>) => void
}

export function PickerApp ({ items, onDone }: PickerAppProps): ReactElement {
  const { exit } = useApp()
  const active = useTerminalGuard()
  const [state, setState] = useState(() => initialPicker(items))
  // keys can arrive faster than React renders: reduce from the latest state, not the rendered one
  const latest = useRef(state)
  const size = useTerminalSize(() => undefined)

  useInput((input: string, key: InkKey) => {
    let next = latest.current
    for (const k of fromInk(input, key)) {
      const step = reducePicker(next, k)
      next = step.state
      if (step.outcome !== null) { latest.current = next; setState(next); onDone(step.outcome); exit(); return }
    }
    latest.current = next
    setState(next)
  }, { isActive: active })

  return <Screen rows={pickerScreen(state, size.cols, size.rows)} />
}
