import { Type, type Static } from '@sinclair/typebox'
import { addressPatterns, fieldGroups, mqttPropertiesSchema, stringEnum, userPropertiesSchema } from '../../connector-api/index.js'

/** `host[:port]`; IPv6 hosts in brackets. */
export const SERVER_PATTERN = `^${addressPatterns.SERVER}$`

/** Connection settings of an MQTT connector (a bridge that publishes to another broker). */
export const mqttConfigSchema = Type.Object(
  {
    server: Type.String({
      pattern: SERVER_PATTERN,
      maxLength: 300,
      description: 'Address of the MQTT broker to publish to, as host:port (IPv6 in brackets). Without a port: 1883, or 8883 with TLS.',
      examples: ['127.0.0.1:1883', 'broker.example.com:8883', '[::1]:1883'],
    }),
    clientId: Type.Optional(Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        'Client ID this connector connects with. Defaults to `junction-<connector ID>`. It must be unique on the broker: ' +
        'a second client with the same ID takes the connection over. A Test connects as `<client ID>-probe` so that it never takes over the running connection.',
    })),
    ...fieldGroups.credentials({ username: 'User name sent in CONNECT. Leave it out for anonymous access.', password: 'Password sent in CONNECT; needs a username.', required: false, maxLength: 65_535 }),
    protocolVersion: stringEnum(['3.1.1', '5'] as const, {
      default: '5',
      description:
        'MQTT protocol version. With 5 the broker says why a publish was refused (e.g. not authorized), so such messages fail visibly; ' +
        'with 3.1.1 a broker drops them silently. Use 3.1.1 for brokers without MQTT 5.',
    }),
    keepaliveS: Type.Integer({
      minimum: 0,
      maximum: 65_535,
      default: 60,
      description: 'MQTT keep alive in seconds: the client pings an idle connection this often, and drops it after 1.5 times this without an answer. 0 turns it off.',
    }),
    cleanStart: Type.Boolean({
      default: true,
      description: 'Start a new session on every connect (MQTT clean start / clean session). Junction only publishes, so a kept session holds nothing it needs.',
    }),
    ...fieldGroups.connectTimeout(),
    ...fieldGroups.tls(),
  },
  {
    additionalProperties: false,
    description: 'Connection to an MQTT broker that rule actions publish to.',
    // MQTT sends a password only together with a user name.
    dependencies: { password: ['username'] },
  },
)

/** A validated config, defaults filled in. */
export type MqttConfig = Static<typeof mqttConfigSchema>

/** One rule action publishing to the broker. Templates use `${field.path}` placeholders over the rule's output. */
export const mqttParamsSchema = Type.Object(
  {
    topic: Type.String({
      minLength: 1,
      maxLength: 65_535,
      description: 'Topic to publish to; a template, e.g. `devices/${clientid}/temp`. It must not contain the wildcards + or # once rendered.',
      examples: ['forwarded/${topic}', 'devices/${clientid}/telemetry'],
    }),
    qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], {
      default: 1,
      description: 'QoS of the publish: 0 (sent once, no acknowledgement), 1 (acknowledged by the broker), 2 (exactly once between Junction and the broker).',
    }),
    retain: Type.Boolean({ default: false, description: 'Publish as a retained message: the broker keeps the last one per topic for new subscribers.' }),
    payload: Type.String({
      default: '${.}',
      maxLength: 1_048_576,
      description: 'Payload; a template. `${.}` is the whole rule output as JSON, `${payload}` the original message payload. A missing value renders as null.',
      examples: ['${.}', '${payload}', '{"device":"${clientid}","temp":${payload.temp}}'],
    }),
    mqtt_properties: mqttPropertiesSchema,
    user_properties: userPropertiesSchema,
    userProperties: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 65_535 }), Type.String({ maxLength: 65_535, description: 'Property value; a template.' }), {
      additionalProperties: false,
      description: 'More MQTT 5 user properties, one template per name (Junction\'s own; added to user_properties, replacing a name given there). Needs protocolVersion 5.',
    })),
  },
  { additionalProperties: false, description: 'Where and what one rule action publishes on the MQTT broker.' },
)

export type MqttParams = Static<typeof mqttParamsSchema>
