import { Type, type Static } from '@sinclair/typebox'
import { addressPatterns, durationMs, fieldGroups, secretString, stringEnum } from '../../connector-api/index.js'

const { HOST, PORT } = addressPatterns
/** `host:port[,host:port...]`, spaces allowed around commas; IPv6 hosts in brackets. */
export const BOOTSTRAP_SERVERS_PATTERN = `^\\s*${HOST}:${PORT}(?:\\s*,\\s*${HOST}:${PORT})*\\s*$`

export const authenticationSchema = Type.Object(
  {
    mechanism: stringEnum(['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const, {
      default: 'none',
      description: "SASL mechanism of the broker's listener; `none` for a PLAINTEXT or SSL listener.",
    }),
    username: Type.Optional(Type.String({ minLength: 1, description: 'SASL user name; required unless the mechanism is `none`.' })),
    password: Type.Optional(secretString({ description: 'SASL password; required unless the mechanism is `none`.' })),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'SASL authentication.',
    // A user and a password are required for every mechanism but `none`.
    if: { type: 'object', properties: { mechanism: { const: 'none' } } },
    then: {},
    else: { type: 'object', properties: { username: { type: 'string' }, password: { type: 'string' } }, required: ['username', 'password'] },
  },
)

export const producerSchema = Type.Object(
  {
    acks: stringEnum(['all', 'leader', 'none'] as const, {
      default: 'all',
      description: 'Acknowledgements a write waits for: `all` in-sync replicas, the partition `leader` only, or `none` (fire and forget; losses go unnoticed).',
    }),
    compression: stringEnum(['none', 'gzip'] as const, {
      default: 'none',
      description: 'Compression of record batches. kafkajs ships only gzip; snappy, lz4 and zstd need codecs Junction does not bundle.',
    }),
    idempotent: Type.Boolean({
      default: false,
      description: 'Idempotent producer: the broker drops duplicates of retried writes. Forces `acks` to `all` and one request in flight per broker.',
    }),
    maxBatchBytes: Type.Integer({
      minimum: 1024,
      maximum: 104_857_600,
      default: 1_048_576,
      description: "Most bytes of records Junction puts in one produce request; keep it at or below the topic's max.message.bytes.",
    }),
    lingerMs: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 5,
      description: 'How long Junction waits for more records to fill a batch before sending it, in milliseconds.',
    }),
    workerThread: Type.Boolean({
      default: true,
      description: 'Run the Kafka client (record encoding, CRC, sockets) in a worker thread of its own, so that it uses another CPU core than the MQTT broker and the rules, which keep the main thread (it does about half the work per record there). Off: everything on the main thread, one thread and about 22 MB less per connector.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'How records are written.' },
)

export const kafkaConfigSchema = Type.Object(
  {
    bootstrapServers: Type.String({
      pattern: BOOTSTRAP_SERVERS_PATTERN,
      maxLength: 4096,
      description: 'Brokers to fetch the cluster metadata from, as host:port separated by commas.',
      examples: ['127.0.0.1:9092', 'kafka-1:9092,kafka-2:9092'],
    }),
    clientId: Type.String({
      minLength: 1,
      maxLength: 255,
      default: 'junction',
      description: 'Client ID sent to the brokers; shows in their logs, quotas and metrics.',
    }),
    authentication: authenticationSchema,
    ...fieldGroups.tls(),
    connectTimeoutMs: durationMs({ default: 5_000, minimum: 100, maximum: 300_000, description: 'How long opening a connection to a broker (including TLS and SASL) may take.' }),
    ...fieldGroups.requestTimeout({ default: 10_000 }),
    producer: producerSchema,
  },
  { additionalProperties: false, description: 'Connection to an Apache Kafka cluster (or a Kafka-compatible one such as Redpanda).' },
)

export type KafkaConfig = Static<typeof kafkaConfigSchema>

const template = (description: string) => Type.String({ description })

/** One rule action writing to Kafka. Templates use `${field.path}` placeholders over the rule's output. */
export const kafkaParamsSchema = Type.Object(
  {
    topic: Type.String({ minLength: 1, maxLength: 1024, description: 'Topic to write to; a template, e.g. `telemetry.${clientid}`.' }),
    key: Type.Optional(template('Record key; a template. Without it the key is null.')),
    value: Type.String({ default: '${.}', description: 'Record value; a template. `${.}` is the whole rule output as JSON.' }),
    headers: Type.Optional(Type.Record(Type.String({ minLength: 1 }), template('Header value; a template.'), {
      additionalProperties: false,
      description: 'Record headers: name -> template.',
    })),
    partitionStrategy: stringEnum(['key_hash', 'random', 'round_robin'] as const, {
      default: 'key_hash',
      description: 'How a partition is picked: by a hash of the key (records without a key are spread), at random, or in turn.',
    }),
    timestamp: Type.Optional(template('Record timestamp in epoch milliseconds; a template. Without it the time the record is sent.')),
  },
  { additionalProperties: false, description: 'Where and what one rule action writes to Kafka.' },
)

export type KafkaParams = Static<typeof kafkaParamsSchema>
