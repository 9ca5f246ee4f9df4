import { Type, type Static } from '@sinclair/typebox'
import { fieldGroups, secretString, stringEnum, tlsSchema } from '../../connector-api/index.js'

const SERVER = '(?:\\[[0-9a-fA-F:.]+\\]|[^\\s,:\\[\\]/]+)(?::[0-9]{1,5})?'

/** Connection settings of a Redis connector (EMQX's `redis_type`, `server(s)`, `sentinel`...). */
export const redisConfigSchema = Type.Object(
  {
    mode: stringEnum(['single', 'sentinel', 'cluster'] as const, {
      default: 'single',
      description: 'How Redis is deployed: one server (`single`), a master found through Sentinel (`sentinel`), or Redis Cluster (`cluster`).',
    }),
    servers: Type.Union([
      Type.String({ pattern: `^\\s*${SERVER}(?:\\s*,\\s*${SERVER})*\\s*$`, maxLength: 4096 }),
      Type.Array(Type.String({ pattern: `^${SERVER}$`, maxLength: 260 }), { minItems: 1, maxItems: 64 }),
    ], {
      description: 'host[:port] of the server (`single`: the first one), of the Sentinels (`sentinel`, port 26379 by default) or of cluster nodes to discover the cluster from (`cluster`); a list or a comma-separated string. Port 6379 by default.',
      examples: ['127.0.0.1:6379', 'redis-1:6379,redis-2:6379'],
    }),
    sentinelMaster: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Name of the master the Sentinels monitor; required in `sentinel` mode.' })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'ACL user name (Redis 6 and later); leave it out for the default user.' })),
    password: Type.Optional(secretString({ maxLength: 1024, description: "Password (AUTH) of the user, or of the default user (`requirepass`)." })),
    database: Type.Integer({ minimum: 0, maximum: 65_535, default: 0, description: 'Database number to SELECT. Redis Cluster has only database 0.' }),
    ...fieldGroups.connectTimeout(),
    tls: tlsSchema,
  },
  {
    additionalProperties: false,
    description: 'Connection to Redis (one server, Sentinel or Cluster).',
    // Cluster mode has one database and Sentinel mode needs the master's name: refused on save, not at the first write.
    allOf: [
      { if: { type: 'object', properties: { mode: { const: 'cluster' } }, required: ['mode'] }, then: { type: 'object', properties: { database: { const: 0, description: 'Redis Cluster has only database 0.' } } } },
      { if: { type: 'object', properties: { mode: { const: 'sentinel' } }, required: ['mode'] }, then: { type: 'object', properties: { sentinelMaster: { type: 'string' } }, required: ['sentinelMaster'] } },
    ],
  },
)

export type RedisConfig = Static<typeof redisConfigSchema>

/** One rule action writing to Redis: a command template, one element per argument. */
export const redisParamsSchema = Type.Object(
  {
    command: Type.Union([
      Type.Array(Type.String({ maxLength: 65_536 }), { minItems: 1, maxItems: 1024 }),
      Type.String({ minLength: 1, maxLength: 65_536 }),
    ], {
      description: 'The command run for each message: a list of arguments, each a template rendered to exactly one argument, e.g. ["HSET", "dev:${clientid}", "temp", "${payload.temp}"]. ' +
        'A string is split at spaces first (double quotes keep spaces), then each part is rendered, so message data never adds or splits arguments. A missing value is an empty argument.',
      examples: [['HSET', 'dev:${clientid}', 'temp', '${payload.temp}'], 'RPUSH readings ${payload}'],
    }),
  },
  { additionalProperties: false, description: 'What to run on Redis for each message.' },
)

export type RedisParams = Static<typeof redisParamsSchema>
