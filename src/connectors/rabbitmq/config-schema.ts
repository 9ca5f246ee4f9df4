import { Type, type Static } from '@sinclair/typebox'
import { durationMs, fieldGroups, host, port, secretString, stringEnum } from '../../connector-api/index.js'

/** Connection settings of a RabbitMQ connector (EMQX: server, port, username, password, virtual_host, heartbeat, pool_size, timeout, ssl). */
export const rabbitmqConfigSchema = Type.Object(
  {
    server: host({ description: 'Host name or IP address of the RabbitMQ server.' }),
    port: port({ default: 5672, description: 'AMQP port: 5672, or usually 5671 for TLS.' }),
    username: Type.String({ minLength: 1, maxLength: 255, default: 'guest', description: 'RabbitMQ user (AMQP PLAIN login).' }),
    password: Type.Optional(secretString({ maxLength: 1024, description: "The user's password." })),
    virtualHost: Type.String({ minLength: 1, maxLength: 255, default: '/', description: 'Virtual host to open; the exchanges of the actions live in it.' }),
    heartbeatMs: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 30_000, description: 'AMQP heartbeat, rounded up to whole seconds: a silent connection is dropped after about two. 0 turns heartbeats off.' }),
    poolSize: Type.Integer({ minimum: 1, maximum: 64, default: 8, description: "AMQP channels each action publishes over in parallel (on the connector's one connection)." }),
    ...fieldGroups.connectTimeout(),
    ...fieldGroups.tls(),
  },
  { additionalProperties: false, description: 'Connection to a RabbitMQ server (AMQP 0-9-1) that rule actions publish to.' },
)
export type RabbitmqConfig = Static<typeof rabbitmqConfigSchema>

const template = (description: string) => Type.String({ maxLength: 65_536, description })

/** The message properties an action may set, each a template (userId, priority and timestamp are left out: a bad value closes the channel or needs a number). */
export const PROPERTY_NAMES = ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'expiration', 'messageId', 'type', 'appId'] as const

/** One rule action: where and how to publish (EMQX: exchange, routing_key, delivery_mode, payload_template, headers/properties templates, confirms). */
export const rabbitmqParamsSchema = Type.Object(
  {
    exchange: Type.String({ maxLength: 255, description: 'Name of an exchange that already exists; Junction never declares it. Empty: the default exchange (routing key = queue name).' }),
    routingKey: template('Routing key; a template, e.g. `telemetry.${clientid}`. At most 255 bytes once rendered.'),
    deliveryMode: stringEnum(['non_persistent', 'persistent'] as const, { default: 'persistent', description: '`persistent`: durable queues keep the message on disk across a broker restart; `non_persistent`: memory only.' }),
    payload: Type.String({ maxLength: 65_536, default: '${.}', description: 'Message body; a template. `${.}` is the whole rule output as JSON.' }),
    headers: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 255 }), template('header value template'), {
      description: 'Header name -> value template (sent as strings). A header whose only placeholder is missing is left out.',
    })),
    properties: Type.Optional(Type.Object(Object.fromEntries(PROPERTY_NAMES.map((name) => [name, Type.Optional(template(`The \`${name}\` property; a template.`))])), {
      additionalProperties: false, description: 'AMQP message properties, each a template; one whose only placeholder is missing is left out. `expiration` must render as milliseconds.',
    })),
    waitForConfirms: Type.Boolean({ default: true, description: "Wait for the broker's publisher confirm of every message; off, a send succeeds once written to the socket." }),
    confirmTimeoutMs: durationMs({ default: 5_000, minimum: 100, maximum: 300_000, description: 'How long a send waits for its confirms before it counts as timed out and is retried.' }),
  },
  { additionalProperties: false, description: 'Publishes each rule output as one message to an existing exchange.' },
)
export type RabbitmqParams = Static<typeof rabbitmqParamsSchema> & { properties?: Partial<Record<(typeof PROPERTY_NAMES)[number], string>> }
