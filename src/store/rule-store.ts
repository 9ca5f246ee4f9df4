import { connectorIdsOf, type RuleAction, type RuleRecord } from '../core/domain.js'
import type { Db, Tables } from './database.js'

type Row = Tables['rules']

const toRecord = (r: Row): RuleRecord => ({
  id: r.id, deploymentId: r.deployment_id, name: r.name, sql: r.sql, description: r.description,
  enabled: r.enabled === 1, actions: JSON.parse(r.actions) as RuleAction[], createdAt: r.created_at, updatedAt: r.updated_at,
})

/** Rules at rest, with the rule -> connector index that ruleCount and the delete guard read. */
export class RuleStore {
  constructor(private readonly db: Db) {}

  async list(deploymentId: string): Promise<RuleRecord[]> {
    const rows = await this.db.selectFrom('rules').selectAll().where('deployment_id', '=', deploymentId).orderBy('created_at').execute()
    return rows.map(toRecord)
  }

  async listAll(): Promise<RuleRecord[]> {
    const rows = await this.db.selectFrom('rules').selectAll().orderBy('created_at').execute()
    return rows.map(toRecord)
  }

  async get(deploymentId: string, id: string): Promise<RuleRecord | undefined> {
    const row = await this.db.selectFrom('rules').selectAll().where('deployment_id', '=', deploymentId).where('id', '=', id).executeTakeFirst()
    return row && toRecord(row)
  }

  async insert(r: RuleRecord): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('rules').values({
        id: r.id, deployment_id: r.deploymentId, name: r.name, sql: r.sql, description: r.description,
        enabled: r.enabled ? 1 : 0, actions: JSON.stringify(r.actions), created_at: r.createdAt, updated_at: r.updatedAt,
      }).execute()
      await insertLinks(tx, r)
    })
  }

  async update(r: RuleRecord): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('rules').set({
        name: r.name, sql: r.sql, description: r.description, enabled: r.enabled ? 1 : 0,
        actions: JSON.stringify(r.actions), updated_at: r.updatedAt,
      }).where('id', '=', r.id).execute()
      await tx.deleteFrom('rule_connectors').where('rule_id', '=', r.id).execute()
      await insertLinks(tx, r)
    })
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('rule_connectors').where('rule_id', '=', id).execute()
      await tx.deleteFrom('rules').where('id', '=', id).execute()
    })
  }
}

async function insertLinks(tx: Db, r: RuleRecord): Promise<void> {
  const links = connectorIdsOf(r.actions).map((connectorId, position) => ({ rule_id: r.id, connector_id: connectorId, position }))
  if (links.length > 0) await tx.insertInto('rule_connectors').values(links).execute()
}
