import type { ConnectorDefinition } from '../../connector-api/index.js'
import { redisConfigSchema, redisParamsSchema, type RedisConfig, type RedisParams } from './config-schema.js'
import { RedisConnector } from './redis-connector.js'

/** Redis: rule actions run a command per message (HSET, RPUSH, XADD...). */
export const redisConnector: ConnectorDefinition<RedisConfig, RedisParams> = {
  type: 'redis',
  title: 'Redis',
  summary: 'Run a Redis command for each MQTT message (single server, Sentinel or Cluster).',
  configSchema: redisConfigSchema,
  paramsSchema: redisParamsSchema,
  // One pipeline per batch: one socket write and one read for up to 500 commands. 5 ms keeps the
  // added latency low; Redis itself answers in microseconds.
  batching: { maxSize: 500, maxWaitMs: 5 },
  create: (config, ctx) => new RedisConnector(config, ctx),
}
