import { DEFAULT_MQTT_SETTINGS, type DeploymentRecord, type Plan } from '../core/domain.js'
import type { Db, Tables } from './database.js'

type Row = Tables['deployments']

const toRecord = (r: Row): DeploymentRecord => ({
  id: r.id, name: r.name, plan: r.plan as Plan, desiredState: r.desired_state as 'running' | 'stopped',
  mqttPort: r.mqtt_port, mqttSettings: DEFAULT_MQTT_SETTINGS, createdAt: r.created_at, updatedAt: r.updated_at,
})

export class DeploymentStore {
  constructor(private readonly db: Db) {}

  async list(): Promise<DeploymentRecord[]> {
    const rows = await this.db.selectFrom('deployments').selectAll().orderBy('created_at').orderBy('id').execute()
    return rows.map(toRecord)
  }

  async get(id: string): Promise<DeploymentRecord | undefined> {
    const row = await this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst()
    return row && toRecord(row)
  }

  async insert(d: DeploymentRecord): Promise<void> {
    await this.db.insertInto('deployments').values({
      id: d.id, name: d.name, plan: d.plan, desired_state: d.desiredState, mqtt_port: d.mqttPort,
      created_at: d.createdAt, updated_at: d.updatedAt,
    }).execute()
  }

  async update(d: DeploymentRecord): Promise<void> {
    await this.db.updateTable('deployments').set({
      name: d.name, plan: d.plan, desired_state: d.desiredState, mqtt_port: d.mqttPort, updated_at: d.updatedAt,
    }).where('id', '=', d.id).execute()
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('deployments').where('id', '=', id).execute()
  }
}
