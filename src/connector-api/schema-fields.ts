import { Type, type TString, type StringOptions } from '@sinclair/typebox'

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
