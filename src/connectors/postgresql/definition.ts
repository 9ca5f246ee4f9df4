import type { ConnectorDefinition } from '../../connector-api/index.js'
import { postgresqlConfigSchema, postgresqlParamsSchema, type PostgresqlConfig, type PostgresqlParams } from './config-schema.js'
import { PostgresqlConnector } from './postgresql-connector.js'

export const postgresqlConnector: ConnectorDefinition<PostgresqlConfig, PostgresqlParams> = {
  type: 'postgresql',
  title: 'PostgreSQL',
  summary: 'Write MQTT messages to PostgreSQL tables with parameterised SQL.',
  configSchema: postgresqlConfigSchema,
  paramsSchema: postgresqlParamsSchema,
  // As EMQX's SQL connectors: a batch of up to 100 rows is one multi-row INSERT (or one
  // pipelined transaction), at most 100 ms after its first message.
  batching: { maxSize: 100, maxWaitMs: 100 },
  create: (config, ctx) => new PostgresqlConnector(config, ctx),
}
