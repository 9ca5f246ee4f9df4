/**
 * HTTP servers for the HTTP connector's tests: node:http or node:https on a free loopback port,
 * recording every request (method, url, headers, body) so tests read back what arrived. By
 * default a server demands `Authorization: Bearer <token>` (401 otherwise), refuses a JSON body
 * whose `id` is "refused" with 400, and answers 200; `answer` overrides per request. `stop` and
 * `start` close and re-open the same port (an outage). Certificates are made with openssl in a
 * temp dir that is removed at once.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { selfSignedCertificate } from './certificate.js'
import type { Destination } from './connector-battery.js'

export interface RecordedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly at: number
  /** The status the server answered. */
  status: number
}

export interface Answer {
  /** 0: never answer (the connection stays open until the server stops). */
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string
}

export interface RecordingServer {
  readonly port: number
  /** `http(s)://127.0.0.1:<port>` */
  readonly origin: string
  readonly requests: RecordedRequest[]
  /** Decides the answer to a request before the defaults do; undefined falls through to them. */
  answer: ((req: RecordedRequest) => Answer | undefined) | undefined
  /** Requests under `path` (of the URL) that the server accepted (2xx), in arrival order. */
  accepted(path: string): RecordedRequest[]
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

export const TOKEN = 'right-token-0123'

export async function startRecordingServer(o: { tls?: { cert: string; key: string }; token?: string | null } = {}): Promise<RecordingServer> {
  const token = o.token === undefined ? TOKEN : o.token
  const requests: RecordedRequest[] = []
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), status: 0 }
      requests.push(r)
      const a = server.answer?.(r) ?? defaultAnswer(r, token)
      r.status = a.status
      if (a.status === 0) return
      res.writeHead(a.status, a.headers ?? {})
      res.end(r.method === 'HEAD' ? undefined : a.body)
    })
  }
  const http: Server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handler) : createHttpServer(handler)
  http.on('clientError', (_err, socket) => socket.destroy())
  const listen = (port: number) => new Promise<number>((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, '127.0.0.1', () => {
      http.off('error', reject)
      resolve((http.address() as { port: number }).port)
    })
  })
  const port = await listen(0)
  let up = true
  const stop = async () => {
    if (!up) return
    up = false
    const closed = new Promise<void>((resolve) => http.close(() => resolve()))
    http.closeAllConnections()
    await closed
  }
  const server: RecordingServer = {
    port,
    origin: `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    answer: undefined,
    accepted: (path) => requests.filter((r) => r.method !== 'HEAD' && r.status < 300 && new URL(r.url, 'http://x').pathname === path),
    stop,
    async start() {
      if (up) return
      await listen(port)
      up = true
    },
    close: stop,
  }
  return server
}

function defaultAnswer(r: RecordedRequest, token: string | null): Answer {
  if (token !== null && r.headers.authorization !== `Bearer ${token}`) {
    return { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: '{"error":"unauthorized"}' }
  }
  if (r.body.startsWith('{') && (JSON.parse(r.body) as { id?: unknown }).id === 'refused') return { status: 400, body: '{"error":"id refused"}' }
  return { status: 200, body: 'ok' }
}

let destinations = 0

/**
 * A fresh path on `server` for one test: params that POST `{id, temp, note}` to it (a JSON body
 * template, or the default body: the whole output), and a read-back of what the server accepted.
 */
export function recordingDestination(server: RecordingServer, basePath: string, o: { defaultBody?: boolean } = {}): Destination {
  const path = `/dest-${++destinations}`
  return {
    params: { path, ...(o.defaultBody ? {} : { body: '{"id": ${id}, "temp": ${temp}, "note": ${note}}' }) },
    readBack: async () => server.accepted(basePath + path).map((r) => JSON.parse(r.body) as { id: unknown; temp?: unknown; note?: unknown }),
  }
}

/** A self-signed certificate for localhost and 127.0.0.1, as PEM (node:https takes no files). */
export async function throwawayCertificate(): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-http-cert-'))
  try {
    const { certPem, keyPem } = await selfSignedCertificate(dir)
    return { cert: certPem, key: keyPem }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
