import { join } from 'node:path'
import type { ConnectorDefinition, ConnectorLogger } from '../connector-api/index.js'
import type { ConnectorRecord, DeploymentStatus } from '../core/domain.js'
import type { DeviceAccess } from '../broker/broker-types.js'
import { MqttBroker } from '../broker/mqtt-broker.js'
import { PortInUseError, TcpListener } from '../broker/tcp-listener.js'
import type { BrokerLimits } from '../core/domain.js'
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
  private broker: MqttBroker | undefined
  private listener: TcpListener | undefined
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
  async start(host: string, port: number, explicitPort: boolean, limits: BrokerLimits, access?: DeviceAccess): Promise<void> {
    if (this.running) return
    const broker = new MqttBroker({ limits, access, sink: this.engine })
    const tcp = new TcpListener(broker)
    try {
      const listener = await tcp.listen(host, port, !explicitPort)
      this.broker = broker
      this.listener = tcp
      this.view = { status: 'running', statusReason: null, mqtt: { host: listener.host, port: listener.port } }
      if (listener.movedFrom !== undefined) {
        this.logger.warn(`MQTT port ${listener.movedFrom} is in use: deployment ${this.id} listens on ${listener.port} instead (set its mqttPort or JUNCTION_MQTT_PORT to choose)`)
      } else {
        this.logger.info(`deployment ${this.id}: MQTT broker listening on ${listener.host}:${listener.port}`)
      }
    } catch (err) {
      await broker.close()
      const reason = err instanceof PortInUseError ? `${err.message}; free it or choose another mqttPort` : `MQTT listener failed: ${(err as Error).message}`
      this.view = { status: 'error', statusReason: reason, mqtt: null }
      this.logger.error(`deployment ${this.id} could not start: ${reason}`)
    }
  }

  /** New limits for the running broker (an edit of the deployment's MQTT settings). */
  setBrokerLimits(limits: BrokerLimits): void {
    this.broker?.setLimits(limits)
  }

  async stop(): Promise<void> {
    this.rules.stopAll()
    await Promise.all([...this.connectors.values()].map((c) => c.stop('deployment stopped')))
    await this.listener?.close()
    await this.broker?.close()
    this.broker = undefined
    this.listener = undefined
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

  connectorStatus(id: string, enabled: boolean): ConnectorStatusView {
    const c = this.connectors.get(id)
    if (c) return c.status
    return { status: 'stopped', statusReason: enabled ? 'deployment stopped' : 'disabled', statusCode: null, statusSince: new Date().toISOString(), lastConnectedAt: null }
  }
}
