import type { ConnectorDefinition } from '../../connector-api/index.js'
import { mysqlConfigSchema, mysqlParamsSchema, type MysqlConfig, type MysqlParams } from './config-schema.js'
import { MysqlConnector } from './mysql-connector.js'

export const mysqlConnector: ConnectorDefinition<MysqlConfig, MysqlParams> = {
  type: 'mysql',
  title: 'MySQL / MariaDB',
  summary: 'Write MQTT messages to MySQL or MariaDB tables with prepared SQL statements.',
  configSchema: mysqlConfigSchema,
  paramsSchema: mysqlParamsSchema,
  // As PostgreSQL: under load 500 rows are one multi-row INSERT and one round trip; 20 ms only bounds the wait behind requests in flight.
  batching: { maxSize: 500, maxWaitMs: 20 },
  create: (config, ctx) => new MysqlConnector(config, ctx),
}
