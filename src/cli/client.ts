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

  /** A JSON request answered with JSON (or nothing, for a 204). */
  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.send(method, path, { ...(body === undefined ? {} : { json: body }), headers })
    if (res.text === '') return undefined as T
    try {
      return JSON.parse(res.text) as T
    } catch {
      throw new CliError(`${method} ${path}: the server answered ${res.status} with something that is not JSON`, EXIT.server, 'Is --url the address of Junction (without /api/v1)?')
    }
  }

  /**
   * Any request; the answer's body as text, for what is not JSON (a YAML export, audit JSON
   * lines). `text` is a body sent as is with its `contentType` (YAML, HOCON). Errors are the
   * API's JSON either way.
   */
  async send(method: string, path: string, opts: { json?: unknown; text?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; contentType: string; text: string }> {
    const url = `${this.connection.url.replace(/\/+$/, '')}/api/v1${path}`
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers }
    if (this.connection.apiKey !== undefined || this.connection.apiSecret !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${this.connection.apiKey ?? ''}:${this.connection.apiSecret ?? ''}`).toString('base64')}`
    }
    let body: string | undefined
    if (opts.text !== undefined) {
      body = opts.text
      headers['content-type'] = opts.contentType ?? 'text/plain'
    } else if (opts.json !== undefined) {
      body = JSON.stringify(opts.json)
      headers['content-type'] = 'application/json'
    }
    let res: Response
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.connection.timeoutMs) })
    } catch (err) {
      throw unreachable(this.connection.url, err)
    }
    const text = await res.text()
    if (!res.ok) {
      let parsed: any
      try {
        parsed = text === '' ? undefined : JSON.parse(text)
      } catch { /* not Junction's error shape: reported as the HTTP status below */ }
      const e = parsed?.error
      if (e && typeof e.code === 'string') throw new ApiCallError(res.status, e.code, String(e.message ?? ''), e.hint, parsed)
      throw new ApiCallError(res.status, `HTTP_${res.status}`, `${method} ${path}: HTTP ${res.status} ${res.statusText}`, 'Is --url the address of Junction (without /api/v1)?', parsed ?? text)
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text }
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
