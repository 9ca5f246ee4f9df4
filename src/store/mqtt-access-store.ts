import { DEFAULT_MQTT_ACL, type MqttAcl } from '../core/mqtt-acl.js'
import type { Db, Tables } from './database.js'

export interface DeviceUserRow {
  readonly deploymentId: string
  readonly username: string
  readonly passwordHash: string
  readonly superuser: boolean
  readonly createdAt: string
  readonly updatedAt: string
}

const toUser = (r: Tables['mqtt_users']): DeviceUserRow => ({
  deploymentId: r.deployment_id, username: r.username, passwordHash: r.password_hash, superuser: r.superuser === 1,
  createdAt: r.created_at, updatedAt: r.updated_at,
})

/** A deployment's device users (password hashes only) and its ACL. */
export class MqttAccessStore {
  constructor(private readonly db: Db) {}

  async listUsers(deploymentId: string): Promise<DeviceUserRow[]> {
    const rows = await this.db.selectFrom('mqtt_users').selectAll().where('deployment_id', '=', deploymentId).orderBy('username').execute()
    return rows.map(toUser)
  }

  async getUser(deploymentId: string, username: string): Promise<DeviceUserRow | undefined> {
    const row = await this.db.selectFrom('mqtt_users').selectAll()
      .where('deployment_id', '=', deploymentId).where('username', '=', username).executeTakeFirst()
    return row && toUser(row)
  }

  /** Throws a unique violation (isUniqueViolation) when the username exists. */
  async insertUser(u: DeviceUserRow): Promise<void> {
    await this.db.insertInto('mqtt_users').values({
      deployment_id: u.deploymentId, username: u.username, password_hash: u.passwordHash, superuser: u.superuser ? 1 : 0,
      created_at: u.createdAt, updated_at: u.updatedAt,
    }).execute()
  }

  /** False when the user does not exist (any more). */
  async updateUser(u: DeviceUserRow): Promise<boolean> {
    const r = await this.db.updateTable('mqtt_users').set({ password_hash: u.passwordHash, superuser: u.superuser ? 1 : 0, updated_at: u.updatedAt })
      .where('deployment_id', '=', u.deploymentId).where('username', '=', u.username).executeTakeFirst()
    return Number(r.numUpdatedRows) === 1
  }

  async deleteUser(deploymentId: string, username: string): Promise<boolean> {
    const r = await this.db.deleteFrom('mqtt_users').where('deployment_id', '=', deploymentId).where('username', '=', username).executeTakeFirst()
    return Number(r.numDeletedRows) === 1
  }

  async getAcl(deploymentId: string): Promise<{ acl: MqttAcl; updatedAt: string | null }> {
    const row = await this.db.selectFrom('mqtt_acls').selectAll().where('deployment_id', '=', deploymentId).executeTakeFirst()
    return row ? { acl: JSON.parse(row.acl) as MqttAcl, updatedAt: row.updated_at } : { acl: DEFAULT_MQTT_ACL, updatedAt: null }
  }

  async putAcl(deploymentId: string, acl: MqttAcl, updatedAt: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('mqtt_acls').where('deployment_id', '=', deploymentId).execute()
      await tx.insertInto('mqtt_acls').values({ deployment_id: deploymentId, acl: JSON.stringify({ rules: acl.rules, default: acl.default }), updated_at: updatedAt }).execute()
    })
  }
}
