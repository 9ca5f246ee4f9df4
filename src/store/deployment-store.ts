import { DEFAULT_MQTT_SETTINGS, EMBEDDED_BROKER, type BrokerSettings, type DeploymentRecord, type MqttSettings, type Plan } from '../core/domain.js'
import type { Db, Tables } from './database.js'
import type { SecretBox } from './secret-box.js'

type Row = Tables['deployments']

/**
 * Deployments at rest. Their MQTT settings are one JSON document whose TLS private key is sealed
 * like connector secrets; fields missing from a stored document (older rows, settings added
 * later) read as their defaults.
 */
export class DeploymentStore {
  constructor(private readonly db: Db, private readonly box: SecretBox) {}

  async list(): Promise<DeploymentRecord[]> {
    const rows = await this.db.selectFrom('deployments').selectAll().orderBy('created_at').orderBy('id').execute()
    return rows.map((r) => this.toRecord(r))
  }

  async get(id: string): Promise<DeploymentRecord | undefined> {
    const row = await this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst()
    return row && this.toRecord(row)
  }

  async insert(d: DeploymentRecord): Promise<void> {
    await this.db.insertInto('deployments').values({
      id: d.id, name: d.name, plan: d.plan, desired_state: d.desiredState, mqtt_port: d.mqttPort,
      mqtt_settings: this.seal(d.mqttSettings), broker: this.sealBroker(d.broker), created_at: d.createdAt, updated_at: d.updatedAt,
    }).execute()
  }

  async update(d: DeploymentRecord): Promise<void> {
    await this.db.updateTable('deployments').set({
      name: d.name, plan: d.plan, desired_state: d.desiredState, mqtt_port: d.mqttPort,
      mqtt_settings: this.seal(d.mqttSettings), broker: this.sealBroker(d.broker), updated_at: d.updatedAt,
    }).where('id', '=', d.id).execute()
  }

  /** The deployment with its device users and ACL. */
  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('mqtt_users').where('deployment_id', '=', id).execute()
      await tx.deleteFrom('mqtt_acls').where('deployment_id', '=', id).execute()
      await tx.deleteFrom('change_history').where('deployment_id', '=', id).execute()
      await tx.deleteFrom('deployments').where('id', '=', id).execute()
    })
  }

  private seal(s: MqttSettings): string {
    return JSON.stringify({ ...s, tls: { certificate: s.tls.certificate, key: s.tls.key === null ? null : this.box.encrypt(s.tls.key) } })
  }

  /** Embedded is stored as null, so rows from before 0005 and embedded ones read the same. */
  private sealBroker(b: BrokerSettings): string | null {
    if (b.mode === 'embedded') return null
    const sealed = { ...b, tls: { ...b.tls } }
    if (b.password !== undefined) sealed.password = this.box.encrypt(b.password)
    if (b.tls.clientKey !== undefined) sealed.tls.clientKey = this.box.encrypt(b.tls.clientKey)
    return JSON.stringify(sealed)
  }

  private unsealBroker(json: string): BrokerSettings {
    const b = JSON.parse(json) as BrokerSettings
    if (b.mode === 'embedded') return EMBEDDED_BROKER
    return {
      ...b,
      ...(b.password === undefined ? {} : { password: this.box.decrypt(b.password) }),
      tls: { ...b.tls, ...(b.tls.clientKey === undefined ? {} : { clientKey: this.box.decrypt(b.tls.clientKey) }) },
    }
  }

  private toRecord(r: Row): DeploymentRecord {
    return {
      id: r.id, name: r.name, plan: r.plan as Plan, desiredState: r.desired_state as 'running' | 'stopped',
      mqttPort: r.mqtt_port, mqttSettings: r.mqtt_settings === null ? DEFAULT_MQTT_SETTINGS : this.unseal(r.mqtt_settings),
      broker: r.broker === null ? EMBEDDED_BROKER : this.unsealBroker(r.broker),
      createdAt: r.created_at, updatedAt: r.updated_at,
    }
  }

  private unseal(json: string): MqttSettings {
    const stored = JSON.parse(json) as Partial<MqttSettings> & { listeners?: Partial<MqttSettings['listeners']>; tls?: Partial<MqttSettings['tls']> }
    const d = DEFAULT_MQTT_SETTINGS
    const key = stored.tls?.key ?? null
    return {
      ...d,
      ...stored,
      listeners: {
        tls: { ...d.listeners.tls, ...stored.listeners?.tls },
        ws: { ...d.listeners.ws, ...stored.listeners?.ws },
        wss: { ...d.listeners.wss, ...stored.listeners?.wss },
      },
      tls: { certificate: stored.tls?.certificate ?? null, key: key === null ? null : this.box.decrypt(key) },
    }
  }
}
