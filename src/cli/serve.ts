/**
 * `junction serve`: the server, run in this process from its own entry (src/main.ts, what
 * `npm start` runs), loaded only when asked so that client commands never load the server.
 */
export async function serve(): Promise<void> {
  await import('../main.js')
}
