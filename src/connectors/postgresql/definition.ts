import type { ConnectorDefinition } from '../../connector-api/index.js'
import { postgresqlConfigSchema, postgresqlParamsSchema, type PostgresqlConfig, type PostgresqlParams } from './config-schema.js'
import { PostgresqlConnector } from './postgresql-connector.js'

export const postgresqlConnector: ConnectorDefinition<PostgresqlConfig, PostgresqlParams> = {
  type: 'postgresql',
  title: 'PostgreSQL',
  summary: 'Write MQTT messages to PostgreSQL tables with parameterised SQL.',
  configSchema: postgresqlConfigSchema,
  paramsSchema: postgresqlParamsSchema,
  // A batch of up to 500 rows is one multi-row INSERT (or one pipelined transaction). Under load
  // batches fill to 500: each round trip costs Junction a socket write and read whatever its
  // size, and 500-row batches cut its CPU per message by ~10 % against 100-row ones. There is no
  // fixed wait (runtime/batch-policy.ts): with no INSERT in flight a row goes at once; 20 ms only
  // bounds the wait behind INSERTs in flight.
  batching: { maxSize: 500, maxWaitMs: 20 },
  create: (config, ctx) => new PostgresqlConnector(config, ctx),
}
