import { AuditStore } from './audit-store.js'
import { AuthStore } from './auth-store.js'
import { ConnectorStore, type SchemaOf } from './connector-store.js'
import { openDatabase, type Db, type StoreLocation } from './database.js'
import { DeploymentStore } from './deployment-store.js'
import { HistoryStore } from './history-store.js'
import { migrateToLatest } from './migrations.js'
import { MqttAccessStore } from './mqtt-access-store.js'
import { RuleStore } from './rule-store.js'
import type { SecretBox } from './secret-box.js'

/** The persistence layer: one database (embedded SQLite or PostgreSQL), migrated on open. */
export class Store {
  readonly deployments: DeploymentStore
  readonly connectors: ConnectorStore
  readonly rules: RuleStore
  readonly auth: AuthStore
  readonly mqttAccess: MqttAccessStore
  readonly audit: AuditStore
  readonly history: HistoryStore

  private constructor(readonly db: Db, readonly location: StoreLocation, box: SecretBox, schemaOf: SchemaOf) {
    this.deployments = new DeploymentStore(db, box)
    this.connectors = new ConnectorStore(db, box, schemaOf)
    this.rules = new RuleStore(db)
    this.auth = new AuthStore(db)
    this.mqttAccess = new MqttAccessStore(db)
    this.audit = new AuditStore(db)
    this.history = new HistoryStore(db)
  }

  static async open(location: StoreLocation, box: SecretBox, schemaOf: SchemaOf): Promise<Store> {
    const db = openDatabase(location)
    try {
      await migrateToLatest(db)
    } catch (err) {
      await db.destroy()
      throw err
    }
    return new Store(db, location, box, schemaOf)
  }

  async close(): Promise<void> {
    await this.db.destroy()
  }
}
