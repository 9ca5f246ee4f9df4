import { Type, type Static } from '@sinclair/typebox'
import { fieldGroups, host, port } from '../../connector-api/index.js'

/** Connection settings (EMQX's `server` split into host and port, as the PostgreSQL type has them). */
export const mysqlConfigSchema = Type.Object({
  host: host({ description: 'Host name or IP address of the MySQL or MariaDB server.' }),
  port: port({ default: 3306, description: 'TCP port of the server.' }),
  database: Type.String({ minLength: 1, maxLength: 64, description: 'Database (schema) the statements run in.' }),
  ...fieldGroups.credentials({ username: 'User to log in as.', password: 'Password of the user; leave it out for a user without one.' }),
  ...fieldGroups.pool({ default: 8 }),
  ...fieldGroups.connectTimeout(),
  ...fieldGroups.tls(),
}, { additionalProperties: false, description: 'Connection to a MySQL or MariaDB server.' })

export type MysqlConfig = Static<typeof mysqlConfigSchema>

export const mysqlParamsSchema = Type.Object({
  sql: Type.String({
    minLength: 1,
    maxLength: 65_536,
    description: 'SQL statement run for each message, with ${var} placeholders from the rule output (e.g. ${payload.temp}). Placeholders are always ' +
      'prepared-statement parameters (?), never pasted into the SQL; a missing value is NULL. A batch of INSERT ... VALUES (...) is one multi-row INSERT.',
    examples: ['INSERT INTO readings (device, temp) VALUES (${clientid}, ${payload.temp})'],
  }),
}, { additionalProperties: false, description: 'What to run on MySQL / MariaDB for each message.' })

export type MysqlParams = Static<typeof mysqlParamsSchema>
