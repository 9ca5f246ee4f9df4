import { Type, type StringOptions, type TObject, type TString, type TUnsafe } from '@sinclair/typebox'

/**
 * A secret string: `writeOnly` marks it for the store (encrypted at rest), the API (answered as
 * "******") and the console (a password input). Every secret field must be built with this.
 */
export function secretString(options: StringOptions = {}): TString {
  return Type.String({ ...options, writeOnly: true })
}

/** TCP port 1..65535. */
export function port(options: { default?: number; description?: string } = {}) {
  return Type.Integer({ minimum: 1, maximum: 65535, ...options })
}

/** Host name or IP address. */
export function host(options: { default?: string; description?: string } = {}) {
  return Type.String({ minLength: 1, maxLength: 253, pattern: '^[^\\s/:]+$|^\\[[0-9a-fA-F:.]+\\]$', ...options })
}

/** Durations are integers in milliseconds; the `Ms` suffix on every field says so. */
export function durationMs(options: { default: number; minimum?: number; maximum?: number; description: string }) {
  return Type.Integer({ minimum: options.minimum ?? 1, maximum: options.maximum ?? 3_600_000, default: options.default, description: options.description })
}

/** TLS settings shared by every connector type that speaks TLS. PEM contents, not file paths. */
export const tlsSchema = Type.Object(
  {
    enable: Type.Boolean({ default: false, description: 'Connect over TLS.' }),
    verify: Type.Boolean({ default: true, description: "Verify the server's certificate and host name. Turn off only for a self-signed server you trust." }),
    caCert: Type.Optional(Type.String({ description: 'PEM CA certificate(s) to trust instead of the system store.' })),
    clientCert: Type.Optional(Type.String({ description: 'PEM client certificate, for servers that require mutual TLS.' })),
    clientKey: Type.Optional(secretString({ description: 'PEM private key of the client certificate.' })),
    serverName: Type.Optional(Type.String({ description: 'Server name (SNI) to send and verify; defaults to the host.' })),
  },
  { additionalProperties: false, default: {}, description: 'TLS settings.' },
)

/** Node `tls.connect` options from the TLS settings, or undefined when TLS is off. */
export function tlsOptions(tls: { enable: boolean; verify: boolean; caCert?: string; clientCert?: string; clientKey?: string; serverName?: string }) {
  if (!tls.enable) return undefined
  return {
    rejectUnauthorized: tls.verify,
    ...(tls.caCert ? { ca: tls.caCert } : {}),
    ...(tls.clientCert ? { cert: tls.clientCert } : {}),
    ...(tls.clientKey ? { key: tls.clientKey } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
    ...(tls.verify ? {} : { checkServerIdentity: () => undefined }),
  }
}

/**
 * Settings the runtime applies to every connector (EMQX calls them resource options). Each type's
 * config schema includes this group as `resource`.
 */
export const resourceOptionsSchema = Type.Object(
  {
    healthCheckIntervalMs: durationMs({ default: 15_000, minimum: 1_000, description: 'How often the connection is checked; status reflects reality within this interval.' }),
    startTimeoutMs: durationMs({ default: 5_000, minimum: 100, description: 'How long one connection attempt may take before it counts as failed.' }),
  },
  { additionalProperties: false, default: {}, description: 'How Junction runs this connector.' },
)

/** A string limited to `values` (a JSON Schema `enum`, which the console renders as a select). */
export function stringEnum<const T extends readonly string[]>(values: T, options: { default?: T[number]; description: string }): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

/**
 * The field groups most types share, so that the same setting has the same name, bounds and
 * words everywhere. Spread them into a type's `Type.Object({...})`.
 */
export const fieldGroups = {
  /** `username` + `password` (secret); `required: false` for servers that allow anonymous access. */
  credentials(o: { username: string; password: string; required?: boolean; maxLength?: number }) {
    const username = Type.String({ minLength: 1, maxLength: o.maxLength ?? 255, description: o.username })
    return {
      username: o.required === false ? Type.Optional(username) : username,
      password: Type.Optional(secretString({ maxLength: o.maxLength ?? 1024, description: o.password })),
    }
  },
  /** `poolSize`: connections kept open for the actions. */
  pool(o: { default: number; maximum?: number }) {
    return {
      poolSize: Type.Integer({ minimum: 1, maximum: o.maximum ?? 100, default: o.default, description: 'Most connections kept open to the server at once; actions send over them in parallel.' }),
    }
  },
  /** `connectTimeoutMs`: bounds connecting, each Test step and each health check. */
  connectTimeout(o: { default?: number } = {}) {
    return {
      connectTimeoutMs: durationMs({ default: o.default ?? 5_000, minimum: 100, maximum: 120_000, description: 'How long opening a connection (TCP, TLS and login) may take; also bounds each Test step and health check.' }),
    }
  },
  /** `requestTimeoutMs`: how long one send waits for the server's answer. */
  requestTimeout(o: { default: number }) {
    return {
      requestTimeoutMs: durationMs({ default: o.default, minimum: 100, maximum: 300_000, description: 'How long one request may wait for the server to answer before it counts as failed and is retried.' }),
    }
  },
  tls: () => ({ tls: tlsSchema }),
}

/**
 * The definition as the registry serves it: its config schema plus `resource` (the runtime's
 * options, the same for every type), so that no type writes them and none can forget them.
 * Typed by the two fields it reads, not by ConnectorDefinition: the contract imports the probe,
 * which imports these fields, so importing the contract here would make a cycle.
 */
export function withResourceOptions<D extends { readonly type: string; readonly configSchema: TObject }>(definition: D): D {
  if ('resource' in definition.configSchema.properties) throw new Error(`connector type ${definition.type}: "resource" is added by the registry; leave it out of configSchema`)
  const configSchema = { ...definition.configSchema, properties: { ...definition.configSchema.properties, resource: resourceOptionsSchema } }
  return { ...definition, configSchema }
}

/**
 * Regular-expression sources (for JSON Schema `pattern`s) of the parts of a server address, one
 * copy for every type: a port 1..65535, a host (a name, an IPv4 address or an IPv6 one in
 * brackets), and `host[:port]`.
 */
export const addressPatterns = (() => {
  const PORT = '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})'
  const HOST = '(?:\\[[0-9a-fA-F:.]+\\]|[^\\s,:\\[\\]/]+)'
  return { PORT, HOST, SERVER: `${HOST}(?::${PORT})?` } as const
})()
