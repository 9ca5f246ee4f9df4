import { Type, type Static } from '@sinclair/typebox'
import { addressPatterns, durationMs, fieldGroups, secretString, stringEnum, tlsSchema } from '../../connector-api/index.js'

/** One way to log in (or none): each branch of the union names the fields of one method. */
const oneMethod = (...fields: string[]) => ({ type: 'object', propertyNames: { enum: fields } })

const authenticationSchema = Type.Object({
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'User name (NATS `user`), sent with the password.' })),
  password: Type.Optional(secretString({ maxLength: 4096, description: 'Password (NATS `pass`) of the user.' })),
  token: Type.Optional(secretString({ minLength: 1, maxLength: 4096, description: 'Authentication token (NATS `auth_token`), instead of a user.' })),
  nkeySeed: Type.Optional(secretString({ pattern: '^S[A-Z][A-Z2-7]{50,}$', maxLength: 200, description: 'NKey seed (starts with `SU`) of an NKey user: the client signs the server\'s nonce with it, so the seed never leaves Junction.' })),
}, {
  additionalProperties: false, default: {}, description: 'How to log in: a username and password, a token, or an NKey seed; one of them, or none for a server without authentication.',
  anyOf: [oneMethod('username', 'password'), oneMethod('token'), oneMethod('nkeySeed')],
  dependencies: { password: ['username'] },
})

/** Connection settings of a NATS connector. */
export const natsConfigSchema = Type.Object({
  servers: Type.String({
    pattern: `^\\s*${addressPatterns.SERVER}(?:\\s*,\\s*${addressPatterns.SERVER})*\\s*$`, maxLength: 4096,
    description: 'NATS servers as host[:port] separated by commas (port 4222 when left out; IPv6 in brackets; no nats:// prefix). The client connects to the first that answers; the Test checks the first.',
    examples: ['127.0.0.1:4222', 'nats-1:4222,nats-2:4222'],
  }),
  authentication: authenticationSchema,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Connection name the server shows in its monitoring (`connz`); defaults to `junction-<connector ID>`.' })),
  ...fieldGroups.connectTimeout(),
  ...fieldGroups.tls(),
}, { additionalProperties: false })

export type NatsConfig = Static<typeof natsConfigSchema> & { tls: Static<typeof tlsSchema> }

/** One rule action: where and how to publish. */
export const natsParamsSchema = Type.Object({
  subject: Type.String({ minLength: 1, maxLength: 4000, description: 'Subject to publish to; a template, e.g. `telemetry.${clientid}`. Rendered, it must be a valid subject without the wildcards `*` and `>` or spaces.' }),
  payload: Type.String({ default: '${.}', maxLength: 1_048_576, description: 'Payload template; `${.}` is the whole rule output as JSON.' }),
  headers: Type.Record(Type.String(), Type.String({ maxLength: 4096 }), {
    default: {}, propertyNames: { pattern: '^[!-9;-~]+$', maxLength: 256 },
    description: 'NATS message headers, name -> value template; a header whose value is a lone placeholder with no value is left out.',
  }),
  mode: stringEnum(['jetstream', 'core'] as const, { default: 'jetstream', description: '`jetstream`: a send succeeds when a stream has stored the message (PubAck); `core`: plain publish, confirmed by a flush round trip, kept by nobody unless a subscriber is listening.' }),
  msgId: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'JetStream message ID template (`Nats-Msg-Id`), e.g. `${id}`: the stream drops a second message with the same ID within its duplicate window, so a retried send is stored once. None by default.' })),
  ackTimeoutMs: durationMs({ default: 5_000, minimum: 100, maximum: 300_000, description: 'How long a JetStream publish waits for its PubAck before it counts as failed and is retried.' }),
}, { additionalProperties: false })
export type NatsParams = Static<typeof natsParamsSchema>
