/**
 * The CLI's only way to Junction: HTTP to the REST API (`<url>/api/v1`), HTTP Basic with an API
 * key. Failures become one of three errors, each with its own exit code (docs/cli.md).
 */
import { EXIT } from './exit-codes.js'

export interface Connection {
  /** Base URL without `/api/v1`, e.g. `http://localhost:18083`. */
  url: string
  apiKey?: string
  apiSecret?: string
  timeoutMs: number
}

/** Something the CLI can report and exit with; `exitCode` is one of EXIT. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number, readonly hint?: string) {
    super(message)
  }
}

/** The API answered an error: its `{error: {code, message, hint, fields}}`, kept whole. */
export class ApiCallError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    hint: string | undefined,
    readonly body: unknown,
  ) {
    super(message, status >= 500 ? EXIT.server : EXIT.api, hint)
  }
}

export class ApiClient {
  constructor(private readonly connection: Connection) {}

  get baseUrl(): string {
    return this.connection.url
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.connection.url.replace(/\/+$/, '')}/api/v1${path}`
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.connection.apiKey !== undefined || this.connection.apiSecret !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${this.connection.apiKey ?? ''}:${this.connection.apiSecret ?? ''}`).toString('base64')}`
    }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.connection.timeoutMs),
      })
    } catch (err) {
      throw unreachable(this.connection.url, err)
    }
    const text = await res.text()
    let parsed: any
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      if (res.ok) throw new CliError(`${method} ${path}: the server answered ${res.status} with something that is not JSON`, EXIT.server, 'Is --url the address of Junction (without /api/v1)?')
    }
    if (!res.ok) {
      const e = parsed?.error
      if (e && typeof e.code === 'string') throw new ApiCallError(res.status, e.code, String(e.message ?? ''), e.hint, parsed)
      throw new ApiCallError(res.status, `HTTP_${res.status}`, `${method} ${path}: HTTP ${res.status} ${res.statusText}`, 'Is --url the address of Junction (without /api/v1)?', parsed ?? text)
    }
    return parsed as T
  }
}

function unreachable(url: string, err: unknown): CliError {
  const e = err as Error & { cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError') {
    return new CliError(`Junction at ${url} did not answer in time`, EXIT.unreachable, 'Check the server, or raise --timeout.')
  }
  const why = e.cause?.code ?? e.cause?.message ?? e.message
  return new CliError(
    `cannot reach Junction at ${url} (${why}): is the server running?`,
    EXIT.unreachable,
    'Start it with `junction serve` (or `npm start`), or point the CLI at it with --url or JUNCTION_URL.',
  )
}
