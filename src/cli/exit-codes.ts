/** The CLI's exit codes; scripts rely on them (docs/cli.md lists them). */
export const EXIT = {
  ok: 0,
  /** The API refused the request (4xx): validation, not found, conflict, unauthorized. */
  api: 1,
  /** The command line was wrong: unknown command or option, missing argument, unreadable file, refused confirmation. */
  usage: 2,
  /** No answer from the server: refused connection, unknown host, timeout. */
  unreachable: 3,
  /** The server failed (5xx) or answered something that is not Junction's API. */
  server: 4,
  /** The request worked but what it checked did not: a connector Test that failed. */
  checkFailed: 5,
} as const
