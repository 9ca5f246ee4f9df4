import type { ConnectorRecord, RuleRef } from '../core/domain.js'
import { mapSecrets } from '../core/secrets.js'
import type { Db, Tables } from './database.js'
import type { SecretBox } from './secret-box.js'

type Row = Tables['connectors']

/** Looks up a type's config schema, so secret fields can be encrypted at rest. */
export type SchemaOf = (type: string) => object | undefined

/**
 * Connectors at rest. Secret fields (the schema's writeOnly ones) are encrypted before they are
 * written and decrypted on read; the rest of the config is plain JSON.
 */
export class ConnectorStore {
  constructor(private readonly db: Db, private readonly box: SecretBox, private readonly schemaOf: SchemaOf) {}

  async list(deploymentId: string): Promise<ConnectorRecord[]> {
    const rows = await this.db.selectFrom('connectors').selectAll().where('deployment_id', '=', deploymentId)
      .orderBy('created_at').orderBy('id').execute()
    return rows.map((r) => this.toRecord(r))
  }

  async listAll(): Promise<ConnectorRecord[]> {
    const rows = await this.db.selectFrom('connectors').selectAll().orderBy('created_at').orderBy('id').execute()
    return rows.map((r) => this.toRecord(r))
  }

  async get(deploymentId: string, id: string): Promise<ConnectorRecord | undefined> {
    const row = await this.db.selectFrom('connectors').selectAll()
      .where('deployment_id', '=', deploymentId).where('id', '=', id).executeTakeFirst()
    return row && this.toRecord(row)
  }

  async count(deploymentId: string): Promise<number> {
    const r = await this.db.selectFrom('connectors').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('deployment_id', '=', deploymentId).executeTakeFirstOrThrow()
    return Number(r.n)
  }

  async insert(c: ConnectorRecord): Promise<void> {
    await this.db.insertInto('connectors').values({
      id: c.id, deployment_id: c.deploymentId, name: c.name, type: c.type, description: c.description,
      config: this.seal(c), enabled: c.enabled ? 1 : 0, version: c.version, created_at: c.createdAt, updated_at: c.updatedAt,
    }).execute()
  }

  /** Writes `c` only if the stored version is still `expectedVersion`; false when it was not. */
  async update(c: ConnectorRecord, expectedVersion: number): Promise<boolean> {
    const r = await this.db.updateTable('connectors').set({
      name: c.name, description: c.description, config: this.seal(c), enabled: c.enabled ? 1 : 0,
      version: c.version, updated_at: c.updatedAt,
    }).where('id', '=', c.id).where('version', '=', expectedVersion).executeTakeFirst()
    return Number(r.numUpdatedRows) === 1
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('connectors').where('id', '=', id).execute()
  }

  /** Rule counts for connectors, one query for a whole list. */
  async ruleCounts(connectorIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    if (connectorIds.length === 0) return counts
    const rows = await this.db.selectFrom('rule_connectors')
      .select(['connector_id', (eb) => eb.fn.count<number>('rule_id').distinct().as('n')])
      .where('connector_id', 'in', connectorIds).groupBy('connector_id').execute()
    for (const r of rows) counts.set(r.connector_id, Number(r.n))
    return counts
  }

  async rulesUsing(connectorId: string): Promise<RuleRef[]> {
    return this.db.selectFrom('rule_connectors').innerJoin('rules', 'rules.id', 'rule_connectors.rule_id')
      .select(['rules.id as id', 'rules.name as name']).distinct()
      .where('rule_connectors.connector_id', '=', connectorId).orderBy('rules.name').execute()
  }

  private seal(c: ConnectorRecord): string {
    return JSON.stringify(this.sealConfig(c.type, c.config))
  }

  /** A config with its secrets encrypted, as it is kept at rest (here and in the change history). */
  sealConfig(type: string, config: Record<string, unknown>): Record<string, unknown> {
    const schema = this.schemaOf(type)
    return schema ? mapSecrets(config, schema, (v) => this.box.encrypt(v)) : config
  }

  /** The reverse of sealConfig: secrets decrypted. */
  openConfig(type: string, stored: Record<string, unknown>): Record<string, unknown> {
    const schema = this.schemaOf(type)
    return schema ? mapSecrets(stored, schema, (v) => this.box.decrypt(v)) : stored
  }

  private toRecord(r: Row): ConnectorRecord {
    return {
      id: r.id, deploymentId: r.deployment_id, name: r.name, type: r.type, description: r.description,
      config: this.openConfig(r.type, JSON.parse(r.config) as Record<string, unknown>),
      enabled: r.enabled === 1, version: r.version, createdAt: r.created_at, updatedAt: r.updated_at,
    }
  }
}
