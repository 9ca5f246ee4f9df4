import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely'
import type { Db } from './database.js'

/**
 * Schema migrations, in order, for both SQLite and PostgreSQL (only portable column types).
 * Append new ones; never edit one that has shipped.
 */
const migrations: Record<string, Migration> = {
  '0001_control_plane': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('deployments')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('plan', 'varchar(20)', (c) => c.notNull())
        .addColumn('desired_state', 'varchar(20)', (c) => c.notNull())
        .addColumn('mqtt_port', 'integer')
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
        .execute()
      await db.schema.createTable('connectors')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().references('deployments.id'))
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('type', 'varchar(64)', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
        .addUniqueConstraint('connectors_deployment_name', ['deployment_id', 'name'])
        .execute()
      await db.schema.createTable('rules')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().references('deployments.id'))
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('sql', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
        .execute()
      await db.schema.createTable('rule_connectors')
        .addColumn('rule_id', 'varchar(64)', (c) => c.notNull().references('rules.id').onDelete('cascade'))
        .addColumn('connector_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rule_connectors_pk', ['rule_id', 'position'])
        .execute()
      await db.schema.createIndex('rule_connectors_connector').on('rule_connectors').column('connector_id').execute()
      await db.schema.createTable('api_keys')
        .addColumn('key', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'varchar(20)', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .execute()
      await db.schema.createTable('users')
        .addColumn('username', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
        .execute()
      await db.schema.createTable('settings')
        .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute()
    },
  },
  '0002_broker_access': {
    async up(db: Kysely<any>) {
      // JSON of the deployment's MqttSettings (TLS key sealed); null = every default.
      await db.schema.alterTable('deployments').addColumn('mqtt_settings', 'text').execute()
      await db.schema.createTable('mqtt_users')
        .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull().references('deployments.id').onDelete('cascade'))
        .addColumn('username', 'varchar(256)', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('superuser', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
        .addPrimaryKeyConstraint('mqtt_users_pk', ['deployment_id', 'username'])
        .execute()
      await db.schema.createTable('mqtt_acls')
        .addColumn('deployment_id', 'varchar(64)', (c) => c.primaryKey().references('deployments.id').onDelete('cascade'))
        // JSON {rules: [...], default}: read and written whole, rules in order.
        .addColumn('acl', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
        .execute()
    },
  },
  '0003_roles_audit': {
    async up(db: Kysely<any>) {
      // The one role before roles existed: everything, now called admin.
      await db.updateTable('api_keys').set({ role: 'admin' }).where('role', '=', 'administrator').execute()
      await db.updateTable('users').set({ role: 'admin' }).where('role', '=', 'administrator').execute()
      await db.schema.createTable('audit_log')
        // Time-ordered text (ms since epoch, then a sequence): sorts as it was written on both back ends.
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('at', 'varchar(40)', (c) => c.notNull())
        .addColumn('actor_kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('actor', 'varchar(256)', (c) => c.notNull())
        .addColumn('source', 'varchar(64)', (c) => c.notNull())
        .addColumn('method', 'varchar(10)', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('action', 'varchar(40)', (c) => c.notNull())
        .addColumn('object_type', 'varchar(40)', (c) => c.notNull())
        .addColumn('object_id', 'varchar(256)')
        .addColumn('deployment_id', 'varchar(64)')
        .addColumn('status', 'integer', (c) => c.notNull())
        // JSON [{path, before, after}] with secrets masked; null when there is nothing to compare.
        .addColumn('diff', 'text')
        .execute()
      await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'id']).execute()
      await db.schema.createIndex('audit_log_object_type').on('audit_log').columns(['object_type', 'id']).execute()
    },
  },
  '0004_change_history': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('change_history')
        .addColumn('object_type', 'varchar(20)', (c) => c.notNull())
        .addColumn('object_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('deployment_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('at', 'varchar(40)', (c) => c.notNull())
        .addColumn('actor_kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('actor', 'varchar(256)', (c) => c.notNull())
        .addColumn('source', 'varchar(64)', (c) => c.notNull())
        .addColumn('action', 'varchar(20)', (c) => c.notNull())
        .addColumn('reverted_from', 'integer')
        // JSON of the whole object as stored (a connector's secrets sealed exactly as in `connectors`).
        .addColumn('snapshot', 'text', (c) => c.notNull())
        // JSON [{path, before, after}] against the previous version, secrets masked; null for the first.
        .addColumn('diff', 'text')
        .addPrimaryKeyConstraint('change_history_pk', ['object_type', 'object_id', 'version'])
        .execute()
      await db.schema.createIndex('change_history_deployment').on('change_history').column('deployment_id').execute()
      // Objects made before history existed start from their state now, so the next change has a diff and a version to revert to.
      const system = { actor_kind: 'system', actor: 'junction', source: '', action: 'baseline', reverted_from: null, diff: null }
      for (const c of await db.selectFrom('connectors').selectAll().execute()) {
        await db.insertInto('change_history').values({
          ...system, object_type: 'connector', object_id: c.id, version: c.version, deployment_id: c.deployment_id, at: c.updated_at,
          snapshot: JSON.stringify({ name: c.name, description: c.description, enabled: c.enabled === 1, config: JSON.parse(c.config) }),
        }).execute()
      }
      for (const r of await db.selectFrom('rules').selectAll().execute()) {
        await db.insertInto('change_history').values({
          ...system, object_type: 'rule', object_id: r.id, version: 1, deployment_id: r.deployment_id, at: r.updated_at,
          snapshot: JSON.stringify({ name: r.name, sql: r.sql, description: r.description, enabled: r.enabled === 1, actions: JSON.parse(r.actions) }),
        }).execute()
      }
    },
  },
  '0005_external_broker': {
    async up(db: Kysely<any>) {
      // JSON of the deployment's BrokerSettings (password and TLS client key sealed); null = embedded.
      await db.schema.alterTable('deployments').addColumn('broker', 'text').execute()
    },
  },
  '0006_nodes': {
    async up(db: Kysely<any>) {
      // Junction nodes sharing this store (docs/cluster.md): one row per node name, its heartbeat
      // every second, and what it last reported of its connectors and rules (JSON).
      await db.schema.createTable('nodes')
        .addColumn('name', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('version', 'varchar(40)', (c) => c.notNull())
        .addColumn('instance', 'varchar(64)', (c) => c.notNull())
        .addColumn('started_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('heartbeat_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('report', 'text')
        .execute()
      // Console sessions, so that a token from one node works on every node and a logout ends it
      // everywhere. The token itself is not stored: only its ID (jti), which its signature covers.
      await db.schema.createTable('sessions')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('username', 'varchar(128)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute()
    },
  },
}

const provider: MigrationProvider = { getMigrations: async () => migrations }

export async function migrateToLatest(db: Db): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error) throw new Error(`store migration ${failed?.migrationName ?? ''} failed: ${String((error as Error).message ?? error)}`)
}

/** Runs the migrations up to and including `name` (to test an upgrade from an older schema). */
export async function migrateTo(db: Db, name: string): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateTo(name)
  if (error) throw new Error(`store migration to ${name} failed: ${String((error as Error).message ?? error)}`)
}
