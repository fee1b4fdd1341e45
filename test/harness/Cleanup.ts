/**
 * Last-resort cleanup of servers this process started, for when a test never reaches `stop()`: an uncaught error,
 * process.exit, Ctrl-C or a SIGTERM from the test runner. Handlers are synchronous (no event loop at 'exit'), so they
 * SIGKILL the pids we spawned, delete our nft tables and remove our temp dirs. Nothing is ever killed by name.
 */

const cleanups = new Set<() => void>()
let installed = false

const runAll = (): void => {
  for (const cleanup of [...cleanups]) {
    try {
      cleanup()
    } catch {
      // keep going: the other servers still need to go
    }
  }
  cleanups.clear()
}

const onSignal = (signal: NodeJS.Signals): void => {
  runAll()
  // We only wanted to clean up, not to change how the process reacts to the signal: if nobody else listens,
  // restore the default action and re-raise it.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal)
    process.kill(process.pid, signal)
  }
}

const install = (): void => {
  if (installed) return
  installed = true
  process.on("exit", runAll)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal)
}

/** Registers a synchronous emergency cleanup; returns the function that unregisters it (call it after a clean stop). */
export const register = (cleanup: () => void): () => void => {
  install()
  cleanups.add(cleanup)
  return () => {
    cleanups.delete(cleanup)
  }
}
