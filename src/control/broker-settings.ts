import { Type, type Static } from '@sinclair/typebox'
import { addressPatterns, durationMs, secretString, tlsSchema } from '../connector-api/index.js'
import { EMBEDDED_BROKER, type BrokerSettings, type DeploymentRecord, type ExternalBrokerSettings } from '../core/domain.js'
import { ApiError, validationError } from '../core/errors.js'
import { maskSecrets, restoreMaskedSecrets, hasUnresolvedMask } from '../core/secrets.js'
import { validateWithSchema } from '../core/schema-validation.js'

/** `host[:port]` (IPv6 in brackets), or an `mqtt://` / `mqtts://` URL with a port. */
const SERVER_PATTERN = `^(?:${addressPatterns.SERVER}|mqtts?://${addressPatterns.SERVER})$`
/** A topic filter: no `$share/` prefix of its own (sharedGroup adds it), wildcards only as whole levels. */
const FILTER_PATTERN = '^(?!\\$share/)(?:(?:[^/#+]*|\\+)/)*(?:[^/#+]*|\\+|#)$'

/**
 * A deployment's broker (`broker` in the API): one schema for validation, defaults, the API's
 * schema and the console's form. Every field but `mode` is about `external`; an embedded broker's
 * settings are `mqttPort` and `mqtt` as before.
 */
export const BrokerSettingsSchema = Type.Object({
  mode: Type.Union([Type.Literal('embedded'), Type.Literal('external')], {
    default: 'embedded',
    description: '`embedded`: the deployment runs its own MQTT broker (mqttPort, mqtt). `external`: it attaches as a client to an existing MQTT broker (docs/external-broker.md).',
  }),
  servers: Type.Optional(Type.Array(Type.String({ pattern: SERVER_PATTERN, maxLength: 300, description: 'host:port (IPv6 in brackets) or mqtt://host:port, mqtts://host:port.' }), {
    minItems: 1, maxItems: 16,
    description: 'External: the broker\'s addresses (a cluster\'s nodes). Each Junction node starts at the one its node name picks, tries the others in turn when it is lost, and goes back to it once it answers (docs/cluster.md). Without a port: 1883, or 8883 with TLS. Required with mode external.',
    examples: [['127.0.0.1:1883'], ['emqx-1:1883', 'emqx-2:1883']],
  })),
  clientIdPrefix: Type.String({
    minLength: 1, maxLength: 100, pattern: '^[^\\s]+$', default: 'junction-',
    description: 'External: client ID = prefix + node name + "-" + deployment ID, so every Junction node and deployment has its own session on the broker.',
  }),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 65_535, description: 'External: user name sent in CONNECT. Leave it out for anonymous access.' })),
  password: Type.Optional(secretString({ maxLength: 65_535, description: 'External: password sent in CONNECT; needs a username.' })),
  protocolVersion: Type.Union([Type.Literal(5), Type.Literal(4)], { default: 5, description: 'External: MQTT 5 (5) or 3.1.1 (4). With 5 a message that Junction could not take is acknowledged with a failure reason code.' }),
  tls: tlsSchema,
  topics: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 65_535, pattern: FILTER_PATTERN }), {
    maxItems: 1000,
    description: 'External: topic filters to subscribe. Left out: the FROM topics of the deployment\'s rules, kept in step as rules change (recommended).',
  })),
  sharedGroup: Type.Union([Type.String({ minLength: 1, maxLength: 100, pattern: '^[^/+#\\s]+$' }), Type.Null()], {
    default: 'junction',
    description: 'External: subscribe as $share/<group>/<filter>, so each message goes to one Junction node of the group. null: plain subscriptions (every node gets every message).',
  }),
  qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1, description: 'External: QoS of the subscriptions. With 1 or 2 a message is acknowledged to the broker only once Junction took it (docs/external-broker.md).' }),
  keepaliveS: Type.Integer({ minimum: 0, maximum: 65_535, default: 60, description: 'External: MQTT keep alive in seconds.' }),
  sessionExpiryS: Type.Integer({
    minimum: 0, maximum: 4_294_967_295, default: 7200,
    description: 'External: how long the broker keeps the session (subscriptions and QoS 1/2 messages) while Junction is away; MQTT 5 Session Expiry Interval. 3.1.1 sessions (clean session false) last as the broker decides.',
  }),
  connectTimeoutMs: durationMs({ default: 5_000, minimum: 100, maximum: 120_000, description: 'External: how long opening a connection (TCP, TLS and CONNECT) may take.' }),
}, {
  additionalProperties: false,
  description: 'Which broker the deployment uses. Sent whole: fields left out take their defaults; "******" keeps a stored secret.',
  dependencies: { password: ['username'] },
})

export type BrokerSettingsInput = Static<typeof BrokerSettingsSchema>

/**
 * The broker settings to store from what the API sent (`input`), defaults filled in, a masked
 * secret replaced by the stored one; a VALIDATION_FAILED ApiError under `broker.` otherwise.
 */
export function brokerSettingsFrom(input: unknown, stored: BrokerSettings = EMBEDDED_BROKER): BrokerSettings {
  const restored = typeof input === 'object' && input !== null && stored.mode === 'external'
    ? restoreMaskedSecrets(input as Record<string, unknown>, stored as unknown as Record<string, unknown>, BrokerSettingsSchema)
    : input
  const checked = validateWithSchema<BrokerSettingsInput>(BrokerSettingsSchema, restored ?? {}, 'broker')
  if (!checked.ok) throw validationError(checked.errors)
  const v = checked.value
  if (v.mode === 'embedded') return EMBEDDED_BROKER
  if (!v.servers) throw validationError([{ path: 'broker.servers', message: 'an external broker needs its address', hint: 'Send servers, e.g. ["127.0.0.1:1883"].' }])
  const masked = hasUnresolvedMask(v as Record<string, unknown>, BrokerSettingsSchema)
  if (masked) throw validationError([{ path: `broker.${masked}`, message: 'no secret is stored to keep', hint: 'Send the value itself.' }])
  return { ...v, mode: 'external', servers: v.servers } as ExternalBrokerSettings
}

/** The settings as the API answers them: secrets masked. */
export function maskBrokerSettings(settings: BrokerSettings): Record<string, unknown> {
  if (settings.mode === 'embedded') return { mode: 'embedded' }
  return maskSecrets(settings as unknown as Record<string, unknown>, BrokerSettingsSchema)
}

/** Whether the deployment attaches to an external broker (device-facing settings do not apply). */
export function isExternal(d: Pick<DeploymentRecord, 'broker'>): boolean {
  return d.broker.mode === 'external'
}

/**
 * Device-facing settings (listeners, device users, the ACL) are the external broker's business:
 * refused rather than kept unused, so nobody believes they protect anything.
 */
export function refuseDeviceSettings(d: Pick<DeploymentRecord, 'id' | 'broker'>, what: string): void {
  if (!isExternal(d)) return
  throw new ApiError('EXTERNAL_BROKER_MODE', `${what} do not apply: deployment "${d.id}" is attached to an external broker`, {
    hint: 'Set who may connect and publish on the external broker itself, or switch the deployment to broker {"mode": "embedded"}.',
  })
}
