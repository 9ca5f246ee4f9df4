import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Kysely, PostgresDialect, SqliteDialect, type Generated } from 'kysely'
import Database from 'libsql'
import pg from 'pg'

/**
 * Column types shared by both back ends. Booleans are 0/1 integers, timestamps ISO-8601 text and
 * documents JSON text, so one set of queries runs unchanged on SQLite and PostgreSQL.
 */
export interface Tables {
  deployments: {
    id: string; name: string; plan: string; desired_state: string; mqtt_port: number | null
    /** JSON of MqttSettings with the TLS key sealed; null (rows from before 0002) = defaults. */
    mqtt_settings: string | null
    /** JSON of BrokerSettings with secrets sealed; null (rows from before 0005) = embedded. */
    broker: string | null
    created_at: string; updated_at: string
  }
  connectors: {
    id: string; deployment_id: string; name: string; type: string; description: string
    config: string; enabled: number; version: number; created_at: string; updated_at: string
  }
  rules: {
    id: string; deployment_id: string; name: string; sql: string; description: string
    enabled: number; actions: string; created_at: string; updated_at: string
  }
  /** One row per rule action that uses a connector: ruleCount and the delete guard read it. */
  rule_connectors: { rule_id: string; connector_id: string; position: number }
  /** Device users of a deployment's broker: scrypt hashes only. */
  mqtt_users: {
    deployment_id: string; username: string; password_hash: string; superuser: number
    created_at: string; updated_at: string
  }
  /** A deployment's ACL as JSON ({rules, default}); no row = DEFAULT_MQTT_ACL. */
  mqtt_acls: { deployment_id: string; acl: string; updated_at: string }
  api_keys: { key: string; secret_hash: string; role: string; description: string; created_at: string }
  users: { username: string; password_hash: string; role: string; created_at: string; updated_at: string }
  settings: { name: string; value: string }
  /** Every change made through the API: who, from where, what, and the diff (secrets masked). */
  audit_log: {
    id: string; at: string; actor_kind: string; actor: string; source: string; method: string; path: string
    action: string; object_type: string; object_id: string | null; deployment_id: string | null; status: number; diff: string | null
  }
  /** Every version of each connector and rule while it exists: the whole object (secrets sealed) and a masked diff. */
  change_history: {
    object_type: string; object_id: string; version: number; deployment_id: string; at: string
    actor_kind: string; actor: string; source: string; action: string; reverted_from: number | null
    snapshot: string; diff: string | null
  }
  /** Junction nodes on this store and their heartbeats (migration 0006). */
  nodes: {
    name: string; address: string; version: string; instance: string; started_at: string; heartbeat_at: string
    /** JSON NodeReport: the node's connector statuses and rule/action metrics at its last heartbeat. */
    report: string | null
  }
  /** Console login sessions by token ID; a logout deletes the row. */
  sessions: { id: string; username: string; expires_at: string; created_at: string }
  seq?: { id: Generated<number> }
}

export type Db = Kysely<Tables>

export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string }

export function storeLocation(dataDir: string, databaseUrl: string | undefined): StoreLocation {
  if (databaseUrl) return { kind: 'postgres', url: databaseUrl }
  return { kind: 'sqlite', file: join(dataDir, 'junction.db') }
}

export function openDatabase(location: StoreLocation): Db {
  if (location.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: location.url, max: 4 })
    // An idle client dropped by the server must not crash the process; the next query reconnects.
    pool.on('error', () => {})
    return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) })
  }
  mkdirSync(join(location.file, '..'), { recursive: true })
  const sqlite = new Database(location.file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  // libsql implements the better-sqlite3 API that Kysely's SQLite dialect expects.
  return new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite as never }) })
}

/** True for a unique/primary-key violation on either back end. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}
