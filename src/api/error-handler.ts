import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, validationError } from '../core/errors.js'
import { toFieldErrors } from '../core/schema-validation.js'

const CONTEXT_PREFIX: Record<string, string> = { body: '', querystring: 'query', params: 'path', headers: 'headers' }

/** Every failure answers `{ error: { code, message, hint?, fields? } }`; never a bare 500. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { validationContext?: string }, request, reply) => {
    const apiError = toApiError(err)
    if (apiError.code === 'INTERNAL_ERROR') request.log.error({ err }, 'unhandled error')
    void reply.status(apiError.status).send(apiError.toBody())
  })
  const routes = new RouteMethods()
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.add(method, route.url)
  })
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!
    const allowed = routes.methodsOf(path)
    if (allowed.length > 0) {
      const e = new ApiError('METHOD_NOT_ALLOWED', `${request.method} is not a method of ${path}; it has ${allowed.join(', ')}`, { hint: 'The Allow header lists the methods; see GET /api/v1/openapi.json.' })
      void reply.status(e.status).header('allow', allowed.join(', ')).send(e.toBody())
      return
    }
    const e = new ApiError('NOT_FOUND', `No route ${request.method} ${path}`, { hint: 'See GET /api/v1/openapi.json for the routes.' })
    void reply.status(e.status).send(e.toBody())
  })
}

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

/**
 * Which methods have a route for a path, to tell a wrong method (405) from a path that does not
 * exist (404): the router answers only "no route for this method and path". Route URLs are
 * Fastify's: `:name` is one non-empty segment, a trailing `*` the rest of the path.
 */
class RouteMethods {
  private readonly routes: Array<{ method: string; segments: string[] }> = []

  add(method: string, url: string): void {
    this.routes.push({ method: method.toUpperCase(), segments: url.split('/') })
  }

  methodsOf(path: string): string[] {
    const segments = path.split('/')
    const methods = new Set(this.routes.filter((r) => matches(r.segments, segments)).map((r) => r.method))
    return [...methods].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  }
}

function rank(method: string): number {
  const i = METHOD_ORDER.indexOf(method)
  return i === -1 ? METHOD_ORDER.length : i
}

function matches(route: string[], path: string[]): boolean {
  for (let i = 0; i < route.length; i++) {
    const r = route[i]!
    if (r === '*' && i === route.length - 1) return path.length > i
    const p = path[i]
    if (p === undefined) return false
    if (r.startsWith(':')) {
      if (p === '') return false
    } else if (r !== p) {
      return false
    }
  }
  return route.length === path.length
}

/**
 * Fastify's `frameworkErrors`: the errors it raises before routing (a URL that does not decode, a
 * path parameter over maxParamLength), which would otherwise answer in Fastify's own shape.
 */
export function answerFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const apiError = toApiError(err)
  if (apiError.code === 'INTERNAL_ERROR') request.log.error({ err }, 'unhandled framework error')
  void reply.status(apiError.status).send(apiError.toBody())
}

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser refuses before Fastify sees them (a
 * bad request line, headers over the limit, a timeout). Written on the socket in the API's shape.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const apiError = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? new ApiError('REQUEST_TIMEOUT', 'The request did not arrive in time', { hint: 'Send the whole request promptly.' })
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError('HEADERS_TOO_LARGE', 'The request line and headers are too large', { hint: 'Keep the URL and headers under 16 KiB.' })
      : new ApiError('MALFORMED_REQUEST', 'The request is not valid HTTP', { hint: 'Check the request line, headers and body framing.' })
  const body = JSON.stringify(apiError.toBody())
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${apiError.status} ${STATUS_TEXT[apiError.status] ?? 'Error'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

function toApiError(err: FastifyError & { validationContext?: string }): ApiError {
  if (err instanceof ApiError) return err
  if (err.validation) {
    const prefix = CONTEXT_PREFIX[err.validationContext ?? 'body'] ?? ''
    return validationError(toFieldErrors(err.validation as never, prefix))
  }
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return new ApiError('INVALID_URL', 'The URL does not decode', { hint: 'Escape % as %25 in paths; every %XX escape must be valid UTF-8.' })
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError('URL_PARAM_TOO_LONG', 'A path parameter is too long', { hint: 'IDs and names in paths are at most 100 characters.' })
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large', { hint: 'Keep bodies under 512 KiB.' })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type', { hint: 'Send JSON with Content-Type: application/json.' })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('INVALID_JSON', 'The body is empty but Content-Type says JSON', { hint: 'Send a JSON body, or no Content-Type header.' })
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('INVALID_JSON', `The body is not valid JSON: ${err.message}`, { hint: 'Check the JSON syntax (quotes, commas, braces).' })
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
    return new ApiError('INVALID_JSON', `The body is not valid JSON: ${err.message}`, { hint: 'Check the JSON syntax (quotes, commas, braces).' })
  }
  if (err.statusCode === 405) return new ApiError('METHOD_NOT_ALLOWED', err.message)
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return validationError([{ path: '', message: err.message, hint: 'Check the request.' }])
  }
  return new ApiError('INTERNAL_ERROR', 'Internal error', { hint: 'This is a bug in Junction; the server log has details.' })
}
