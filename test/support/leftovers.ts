/**
 * Private test servers (a process, a temp dir) must not outlive the test process, however it ends:
 * a failed assertion, a timeout or a crash would otherwise leave them running for every later run.
 * An 'exit' handler cannot wait for anything, so each cleanup is synchronous (SIGKILL, rmSync, a
 * spawnSync'd `pg_ctl stop`...); the graceful, awaited stop stays with the server's own code.
 */

const cleanups = new Set<() => void>()
let exitHookInstalled = false

/**
 * Runs `cleanup` at process exit unless the returned function was called first (once the server
 * was stopped or removed normally). Every registered cleanup runs even when an earlier one throws;
 * the first error is thrown after them.
 */
export function cleanUpAtExit(cleanup: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      let failure: unknown
      for (const run of cleanups) {
        try {
          run()
        } catch (err) {
          failure ??= err
        }
      }
      if (failure !== undefined) throw failure
    })
  }
  // A wrapper of its own, so that registering the same function twice needs two unregistrations.
  const entry = () => cleanup()
  cleanups.add(entry)
  return () => { cleanups.delete(entry) }
}
