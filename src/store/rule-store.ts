import type { RuleAction, RuleRecord } from '../core/domain.js'
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

  async insert(r: RuleRecord): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('rules').values({
        id: r.id, deployment_id: r.deploymentId, name: r.name, sql: r.sql, description: r.description,
        enabled: r.enabled ? 1 : 0, actions: JSON.stringify(r.actions), created_at: r.createdAt, updated_at: r.updatedAt,
      }).execute()
      const links = r.actions.flatMap((a, position) => (a.connectorId ? [{ rule_id: r.id, connector_id: a.connectorId, position }] : []))
      if (links.length > 0) await tx.insertInto('rule_connectors').values(links).execute()
    })
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('rule_connectors').where('rule_id', '=', id).execute()
      await tx.deleteFrom('rules').where('id', '=', id).execute()
    })
  }
}
