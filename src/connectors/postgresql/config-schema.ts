import { Type, type Static } from '@sinclair/typebox'
import { fieldGroups, host, port, secretString } from '../../connector-api/index.js'

/** Connection settings of a PostgreSQL connector. Fields with a default are filled in on save. */
export const postgresqlConfigSchema = Type.Object(
  {
    host: host({ description: 'Host name or IP address of the PostgreSQL server.' }),
    port: port({ default: 5432, description: 'TCP port of the PostgreSQL server.' }),
    database: Type.String({ minLength: 1, maxLength: 63, description: 'Name of the database to connect to.' }),
    username: Type.String({ minLength: 1, maxLength: 63, description: 'Role (user name) to log in as.' }),
    password: Type.Optional(secretString({ description: "Password of the role. Leave it out when the server trusts this client (pg_hba.conf 'trust')." })),
    // Not fieldGroups.credentials: its bounds (255 / 1024) would change PostgreSQL's (63 for names, no limit on passwords).
    ...fieldGroups.pool({ default: 8 }),
    ...fieldGroups.connectTimeout(),
    ...fieldGroups.tls(),
  },
  { additionalProperties: false, description: 'Connection to a PostgreSQL server.' },
)

/** A validated config, defaults filled in. */
export type PostgresqlConfig = Static<typeof postgresqlConfigSchema>

/** Settings of one rule action that writes to PostgreSQL. */
export const postgresqlParamsSchema = Type.Object(
  {
    sql: Type.String({
      minLength: 1,
      maxLength: 65_536,
      description:
        'SQL statement run for each message, with ${var} placeholders taken from the rule output (e.g. ${payload.temp}, ${clientid}). ' +
        'Placeholders are always sent as prepared-statement parameters ($1, $2, ...), never pasted into the SQL text, so message data cannot change the statement.',
      examples: ['INSERT INTO readings (device, temp, at) VALUES (${clientid}, ${payload.temp}, now())'],
    }),
  },
  { additionalProperties: false, description: 'What to run on PostgreSQL for each message.' },
)

export type PostgresqlParams = Static<typeof postgresqlParamsSchema>
