// Imported first by tests that load ink: ink reads $CI once, at import, and under CI draws no
// frames until it exits. `dmess chat` clears it the same way before it loads ink (src/chat/tty.ts).
import { forceInteractiveRendering } from '../../src/chat/tty.js'

forceInteractiveRendering({ isTTY: true })
