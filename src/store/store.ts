import { AuditStore } from './audit-store.js'
import { openChangeFeed, type ChangeFeed } from './change-feed.js'
import { AuthStore } from './auth-store.js'
import { ConnectorStore, type SchemaOf } from './connector-store.js'
import { openDatabase, type Db, type StoreLocation } from './database.js'
import { DeploymentStore } from './deployment-store.js'
import { HistoryStore } from './history-store.js'
import { migrateToLatest } from './migrations.js'
import { MqttAccessStore } from './mqtt-access-store.js'
import { NodeStore } from './node-store.js'
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
  readonly nodes: NodeStore
  /** Configuration changes between the nodes sharing this store. */
  readonly changes: ChangeFeed

  private constructor(readonly db: Db, readonly location: StoreLocation, box: SecretBox, schemaOf: SchemaOf) {
    this.deployments = new DeploymentStore(db, box)
    this.connectors = new ConnectorStore(db, box, schemaOf)
    this.rules = new RuleStore(db)
    this.auth = new AuthStore(db)
    this.mqttAccess = new MqttAccessStore(db)
    this.audit = new AuditStore(db)
    this.history = new HistoryStore(db)
    this.nodes = new NodeStore(db)
    this.changes = openChangeFeed(db, location)
    this.box = box
  }

  private readonly box: SecretBox

  /** A secret of the installation (e.g. the session signing key), generated once and kept sealed. */
  async installationSecret(name: string, generate: () => string): Promise<string> {
    const stored = await this.auth.settingOnce(name, this.box.encrypt(generate()))
    return this.box.decrypt(stored)
  }

  static async open(location: StoreLocation, box: SecretBox, schemaOf: SchemaOf): Promise<Store> {
    const db = openDatabase(location)
    try {
      await migrateToLatest(db)
      await checkSecretKey(db, box)
    } catch (err) {
      await db.destroy()
      throw err
    }
    return new Store(db, location, box, schemaOf)
  }

  async close(): Promise<void> {
    await this.changes.close()
    await this.db.destroy()
  }
}

/** The check value's setting name and plain text: sealed with the key of the node that made the store. */
const SECRET_CHECK = 'secret_key_check'
const SECRET_CHECK_TEXT = 'junction secret key check v1'

/** Thrown at start when this node's secret key cannot open the store's secrets. */
export class SecretKeyMismatchError extends Error {
  override readonly name = 'SecretKeyMismatchError'
}

/**
 * Every node on one store must seal and open secrets with the same key: a node with another key
 * would fail to read every connector's password. The first start seals a check value; a later
 * start (of any node) that cannot open it refuses to run, before it touches anything.
 */
async function checkSecretKey(db: Db, box: SecretBox): Promise<void> {
  const auth = new AuthStore(db)
  const stored = await auth.settingOnce(SECRET_CHECK, box.encrypt(SECRET_CHECK_TEXT))
  let opened: string | undefined
  try {
    opened = box.decrypt(stored)
  } catch {
    opened = undefined
  }
  if (opened !== SECRET_CHECK_TEXT) {
    throw new SecretKeyMismatchError('the secret key (JUNCTION_SECRET_KEY, or secret.key in the data directory) does not open the secrets in this store: '
      + 'every node sharing a database must use the key the store was created with. Set JUNCTION_SECRET_KEY to that key (see docs/cluster.md).')
  }
}
