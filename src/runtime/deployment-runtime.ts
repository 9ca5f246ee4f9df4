import { join } from 'node:path'
import type { ConnectorDefinition, ConnectorLogger } from '../connector-api/index.js'
import type { ConnectorRecord, DeploymentStatus } from '../core/domain.js'
import { DEFAULT_MQTT_SETTINGS, type BrokerLimits, type MqttSettings } from '../core/domain.js'
import type { DeviceAccess } from '../broker/broker-types.js'
import { EmbeddedBroker, PortInUseError } from '../broker/embedded-broker.js'
import { RuleEngine } from '../rules/rule-engine.js'
import { ManagedConnector, type ConnectorStatusView } from './managed-connector.js'
import { RuleRuntime } from './rule-runtime.js'

export interface DeploymentRuntimeView {
  readonly status: DeploymentStatus
  readonly statusReason: string | null
  readonly mqtt: { readonly host: string; readonly port: number } | null
}

export interface RuntimeLogger extends ConnectorLogger {
  child(bindings: Record<string, unknown>): RuntimeLogger
}

/**
 * What runs for one deployment: its embedded broker, its connectors' live connections and its
 * rules. It holds no configuration of its own; the control layer tells it what to run.
 */
export class DeploymentRuntime {
  private broker: EmbeddedBroker | undefined
  private view: DeploymentRuntimeView = { status: 'stopped', statusReason: null, mqtt: null }
  private readonly connectors = new Map<string, ManagedConnector>()
  private readonly statusListeners = new Map<string, Set<(view: ConnectorStatusView) => void>>()
  readonly engine = new RuleEngine()
  readonly rules: RuleRuntime

  constructor(readonly id: string, private readonly logger: RuntimeLogger, dataDir: string) {
    this.rules = new RuleRuntime(this.engine, {
      connector: (cid) => this.connectors.get(cid),
      onConnectorStatus: (cid, listener) => {
        let set = this.statusListeners.get(cid)
        if (!set) this.statusListeners.set(cid, (set = new Set()))
        set.add(listener)
        return () => set.delete(listener)
      },
      broker: () => this.broker,
      bufferDir: (actionId) => join(dataDir, 'buffers', id, actionId.replace(/[^a-z0-9-]/gi, '_')),
    }, logger.child({ deployment: id }))
  }

  get status(): DeploymentRuntimeView {
    return this.view
  }

  get running(): boolean {
    return this.view.status === 'running'
  }

  /**
   * Starts the broker. `explicitPort` means the user chose the port, so a taken one is an error;
   * otherwise the next free port is used and said so in the log.
   */
  async start(host: string, port: number, explicitPort: boolean): Promise<void> {
    if (this.running) return
    const broker = new EmbeddedBroker(this.engine)
    try {
      const listener = await broker.listen(host, port, !explicitPort)
      this.broker = broker
      this.view = { status: 'running', statusReason: null, mqtt: { host: listener.host, port: listener.port } }
      if (listener.movedFrom !== undefined) {
        this.logger.warn(`MQTT port ${listener.movedFrom} is in use: deployment ${this.id} listens on ${listener.port} instead (set its mqttPort or JUNCTION_MQTT_PORT to choose)`)
      } else {
        this.logger.info(`deployment ${this.id}: MQTT broker listening on ${listener.host}:${listener.port}`)
      }
    } catch (err) {
      const reason = err instanceof PortInUseError ? `${err.message}; free it or choose another mqttPort` : `MQTT listener failed: ${(err as Error).message}`
      this.view = { status: 'error', statusReason: reason, mqtt: null }
      this.logger.error(`deployment ${this.id} could not start: ${reason}`)
    }
  }

  async stop(): Promise<void> {
    this.rules.stopAll()
    await Promise.all([...this.connectors.values()].map((c) => c.stop('deployment stopped')))
    await this.broker?.close()
    this.broker = undefined
    this.view = { status: 'stopped', statusReason: null, mqtt: null }
  }

  /**
   * Starts a connector's live connection, or applies a new config to it (also how connectors
   * resume after the deployment restarts). A disabled connector is stopped.
   */
  async runConnector(record: ConnectorRecord, definition: ConnectorDefinition, onStatus: (id: string, view: ConnectorStatusView) => void): Promise<void> {
    const existing = this.connectors.get(record.id)
    if (!record.enabled) {
      if (existing) await existing.stop('disabled')
      return
    }
    if (existing && this.running) {
      await existing.replace(record.config)
      return
    }
    // New, or the deployment is not running: (re)build it with this config; it connects now only
    // if the deployment runs, else when the deployment starts.
    await existing?.stop()
    const managed = new ManagedConnector(record.id, definition, record.config, this.logger.child({ connector: record.id, type: record.type }), (cid, view) => {
      onStatus(cid, view)
      for (const l of this.statusListeners.get(cid) ?? []) l(view)
    })
    this.connectors.set(record.id, managed)
    if (this.running) managed.start()
    else await managed.stop('deployment stopped')
  }

  async removeConnector(id: string): Promise<void> {
    const c = this.connectors.get(id)
    this.connectors.delete(id)
    await c?.stop('deleted')
  }

  // ---- Device access and broker settings: the control layer sets them, the broker reads them ----

  private deviceAccess: DeviceAccess = REFUSE_EVERYONE
  private mqttSettings: MqttSettings = DEFAULT_MQTT_SETTINGS
  private brokerLimits: BrokerLimits = limitsOf(DEFAULT_MQTT_SETTINGS)
  private readonly mqttSettingsListeners = new Set<(settings: MqttSettings) => void>()

  /** Who may connect and what they may do: asked once per CONNECT, then once per connection. */
  get access(): DeviceAccess {
    return this.deviceAccess
  }

  /** Called by the control layer when it creates the runtime; until then everyone is refused. */
  useAccess(access: DeviceAccess): void {
    this.deviceAccess = access
  }

  /** The deployment's broker settings now (the TLS key in clear: never log or return them). */
  get settings(): MqttSettings {
    return this.mqttSettings
  }

  /** The limits the broker enforces now. */
  get limits(): BrokerLimits {
    return this.brokerLimits
  }

  /**
   * Takes new broker settings (at boot, on create, after every PATCH of `mqtt`) and tells the
   * listeners registered with onMqttSettingsChanged. `access` reads allowAnonymous from here, so
   * that applies to the next CONNECT without a restart.
   */
  applyMqttSettings(settings: MqttSettings): void {
    this.mqttSettings = settings
    this.brokerLimits = limitsOf(settings)
    for (const listener of this.mqttSettingsListeners) {
      try {
        listener(settings)
      } catch (err) {
        // The settings are saved either way; a listener's bug must not fail the request.
        this.logger.error(`deployment ${this.id}: applying MQTT settings failed: ${(err as Error).message}`)
      }
    }
  }

  /** Runs `listener` after each applyMqttSettings; returns the unsubscribe. */
  onMqttSettingsChanged(listener: (settings: MqttSettings) => void): () => void {
    this.mqttSettingsListeners.add(listener)
    return () => this.mqttSettingsListeners.delete(listener)
  }

  connectorStatus(id: string, enabled: boolean): ConnectorStatusView {
    const c = this.connectors.get(id)
    if (c) return c.status
    return { status: 'stopped', statusReason: enabled ? 'deployment stopped' : 'disabled', statusCode: null, statusSince: new Date().toISOString(), lastConnectedAt: null }
  }
}

const REFUSE_EVERYONE: DeviceAccess = {
  authenticate: async () => ({ ok: false, reason: 'not_authorized' }),
  permissions: () => ({ canPublish: () => false, canSubscribe: () => false }),
}

function limitsOf(s: MqttSettings): BrokerLimits {
  return {
    allowAnonymous: s.allowAnonymous, maxPacketSize: s.maxPacketSize, maxConnections: s.maxConnections,
    serverKeepAlive: s.serverKeepAlive, maxInflight: s.maxInflight, maxQueuedMessages: s.maxQueuedMessages,
    maxSessionExpiry: s.maxSessionExpiry, maxMessageRate: s.maxMessageRate, maxConnectionRate: s.maxConnectionRate,
  }
}
