import { Type, type Static } from '@sinclair/typebox'
import { addressPatterns, fieldGroups, secretString, stringEnum, tlsSchema } from '../../connector-api/index.js'

const { PORT } = addressPatterns
/** `http(s)://host[:port][/path]`. No `@` (credentials would show wherever the URL does), query or fragment. */
const URL_PATTERN = `^[Hh][Tt][Tt][Pp][Ss]?://(?:\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::${PORT})?(?:/[^\\s?#]*)?$`
// Headers the client manages (framing, connection, target), and for the connector the credentials (the secret
// `authorization` holds them), refused in any case: JSON Schema patterns have no `i` flag.
const MANAGED = ['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']
const anyCase = (names: string[]) => names.map((w) => w.replace(/[a-z]/g, (c) => `[${c.toUpperCase()}${c}]`)).join('|')
const headerMap = (description: string, refused = MANAGED) => Type.Record(
  Type.String({ pattern: `^(?!(?:${anyCase(refused)})$)[!#$%&'*+.^_\`|~0-9A-Za-z-]+$` }),
  Type.String({ maxLength: 8_192, pattern: '^[^\\r\\n\\x00]*$' }),
  { default: {}, description, additionalProperties: false },
)

/** Connection settings of an HTTP connector: the server that rule actions send requests to. */
export const httpConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: URL_PATTERN,
      maxLength: 2_048,
      description: "Base URL of the HTTP server: http:// or https://, host, optional port and path; each action's path is appended to it as written. No user:password@ (use authorization), query or fragment.",
    }),
    headers: headerMap("Headers sent with every request, name -> value; an action's headers of the same name win. Shown as written, so credentials go in authorization.", [...MANAGED, 'authorization', 'proxy-authorization']),
    authorization: Type.Optional(secretString({ maxLength: 8_192, pattern: '^[^\\r\\n\\x00]*$', description: 'Value of the Authorization header sent with every request (e.g. "Bearer <token>" or "Basic <base64>"); secret.' })),
    ...fieldGroups.pool({ default: 8 }),
    pipelining: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Requests sent on one connection before their answers come back (HTTP/1.1 pipelining); 1 waits for each answer. Only for servers known to handle it.' }),
    workerThread: Type.Boolean({
      default: false,
      description: 'Send the requests from a worker thread of their own, so that the HTTP client (about half of the work per message) uses another CPU core than the MQTT broker and the rules. Worth it where cores are spare: handing requests across costs CPU too, and on 2 cores shared with the publishers and the server it gained nothing (docs/performance.md).',
    }),
    ...fieldGroups.connectTimeout({ default: 15_000 }),
    ...fieldGroups.requestTimeout({ default: 15_000 }),
    // https:// itself turns TLS on, so there is no `enable`.
    tls: Type.Omit(tlsSchema, ['enable'], { additionalProperties: false, default: {}, description: 'TLS settings, used when the URL is https:// (the scheme turns TLS on).' }),
  },
  { additionalProperties: false, description: 'Connection to an HTTP server (webhook).' },
)

export type HttpConfig = Static<typeof httpConfigSchema>

export const httpParamsSchema = Type.Object(
  {
    method: stringEnum(['POST', 'PUT', 'PATCH', 'GET', 'DELETE'] as const, { default: 'POST', description: 'HTTP method. GET and DELETE send no body.' }),
    path: Type.String({
      maxLength: 4_096,
      pattern: '^(?:[/?][^\\s#]*)?$',
      default: '',
      description: 'Path template appended to the base URL as written (starts with / or ?), e.g. /devices/${clientid}?at=${timestamp}. Placeholders are URL-encoded.',
    }),
    headers: headerMap("Header templates for this action, name -> value (e.g. X-Device: ${clientid}); they override the connector's headers. A header whose only placeholder is missing is left out."),
    body: Type.Optional(Type.String({
      maxLength: 1_048_576,
      description: 'Body template. Left out: the whole rule output as JSON. A template starting with { or [ is JSON: a bare placeholder becomes a JSON value (missing: null) and one inside quotes is escaped; any other template is text.',
    })),
  },
  { additionalProperties: false, description: 'The request sent for each message.' },
)

export type HttpParams = Static<typeof httpParamsSchema>
