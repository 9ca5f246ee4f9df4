import type { ConnectorDefinition } from '../../connector-api/index.js'
import { postgresqlConfigSchema, postgresqlParamsSchema, type PostgresqlConfig, type PostgresqlParams } from './config-schema.js'
import { PostgresqlConnector } from './postgresql-connector.js'

export const postgresqlConnector: ConnectorDefinition<PostgresqlConfig, PostgresqlParams> = {
  type: 'postgresql',
  title: 'PostgreSQL',
  summary: 'Write MQTT messages to PostgreSQL tables with parameterised SQL.',
  configSchema: postgresqlConfigSchema,
  paramsSchema: postgresqlParamsSchema,
  create: (config, ctx) => new PostgresqlConnector(config, ctx),
}
