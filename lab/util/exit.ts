/**
 * The one process exit hook. Whatever ends the process (a finished command, an uncaught error,
 * process.exit after a second Ctrl-C), the last-resort cleanups registered here run, newest
 * first: killing lab processes, removing lab folders that were not torn down. They must be
 * synchronous (nothing asynchronous runs after 'exit').
 */
const hooks = new Set<() => void>();
let installed = false;

export function onExit(fn: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', () => {
      for (const h of [...hooks].reverse()) {
        try {
          h();
        } catch {
          /* the others still run */
        }
      }
    });
  }
  hooks.add(fn);
  return () => hooks.delete(fn);
}
