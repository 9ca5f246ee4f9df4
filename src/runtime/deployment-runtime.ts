import { join } from 'node:path'
import type { ConnectorDefinition, ConnectorLogger } from '../connector-api/index.js'
import { DEFAULT_MQTT_SETTINGS, EMBEDDED_BROKER, type BrokerLimits, type BrokerSettings, type ConnectorRecord, type DeploymentStatus, type MqttSettings } from '../core/domain.js'
import type { DeviceAccess } from '../broker/broker-types.js'
import { MqttBroker, type BrokerStats } from '../broker/mqtt-broker.js'
import { ExternalBrokerClient, type ExternalBrokerStatus } from '../broker/external/external-broker.js'
import { CertificateError, configuredCertificate, selfSignedCertificate, type BrokerCertificate } from '../broker/listeners/broker-certificate.js'
import { BrokerListeners, PortInUseError, type ListenerAddress } from '../broker/listeners/broker-listeners.js'
import { DEFAULT_LISTENER_PORTS, planListeners } from '../broker/listeners/listener-plan.js'
import type { Transport } from '../broker/listeners/listener-urls.js'
import { RuleEngine } from '../rules/rule-engine.js'
import { ManagedConnector, type ConnectorStatusView } from './managed-connector.js'
import { RuleRuntime } from './rule-runtime.js'
import type { DeploymentBroker } from './builtin-action.js'

export interface DeploymentRuntimeView {
  readonly status: DeploymentStatus
  readonly statusReason: string | null
  /** Where the broker listens now: `host`/`port` of plain TCP, and every listener's URLs. */
  readonly mqtt: { readonly host: string; readonly port: number; readonly addresses: readonly ListenerAddress[] } | null
  /** The connection to the external broker while the deployment runs attached to one. */
  readonly external: ExternalBrokerStatus | null
}

/** What a deployment's broker listens with. */
export interface ListenerConfig {
  readonly host: string
  /** The plain TCP port; `explicit` when the user chose it (then a taken one is an error). */
  readonly port: number
  readonly explicitPort: boolean
  /** TLS, WebSocket and secure WebSocket listeners, and the certificate TLS and WSS present. */
  /** Ports of unset listeners (tests move them off the well-known ones). */
  readonly defaultPorts?: Readonly<Record<Transport, number>>
}

/** Where the settings of each transport's port live, for a reason that says what to change. */
const PORT_SETTING: Record<Transport, string> = { tcp: 'mqttPort', tls: 'mqtt.listeners.tls.port', ws: 'mqtt.listeners.ws.port', wss: 'mqtt.listeners.wss.port' }

export interface RuntimeLogger extends ConnectorLogger {
  child(bindings: Record<string, unknown>): RuntimeLogger
}

/**
 * What runs for one deployment: its embedded broker, its connectors' live connections and its
 * rules. It holds no configuration of its own; the control layer tells it what to run.
 */
export class DeploymentRuntime {
  private broker: MqttBroker | undefined
  /** The plain TCP listener, and the TLS, WebSocket and secure WebSocket ones (reopened on an edit). */
  private listeners: BrokerListeners | undefined
  private extraListeners: BrokerListeners | undefined
  private listenerConfig: ListenerConfig | undefined
  private host = ''
  private view: Omit<DeploymentRuntimeView, 'mqtt' | 'external'> = { status: 'stopped', statusReason: null }
  /** Embedded, or the external broker to attach to (and the client ID to attach with). */
  private brokerSettings: BrokerSettings = EMBEDDED_BROKER
  private externalClientId = ''
  private nodeName: string | undefined
  private external: ExternalBrokerClient | undefined
  private stopFollowingRules: (() => void) | undefined
  private readonly connectors = new Map<string, ManagedConnector>()
  private readonly statusListeners = new Map<string, Set<(view: ConnectorStatusView) => void>>()
  readonly engine = new RuleEngine()
  readonly rules: RuleRuntime

  constructor(readonly id: string, private readonly logger: RuntimeLogger, private readonly dataDir: string) {
    this.rules = new RuleRuntime(this.engine, {
      connector: (cid) => this.connectors.get(cid),
      onConnectorStatus: (cid, listener) => {
        let set = this.statusListeners.get(cid)
        if (!set) this.statusListeners.set(cid, (set = new Set()))
        set.add(listener)
        return () => set.delete(listener)
      },
      broker: () => this.broker ?? this.external,
      bufferDir: (actionId) => join(dataDir, 'buffers', id, actionId.replace(/[^a-z0-9-]/gi, '_')),
    }, logger.child({ deployment: id }))
  }

  get status(): DeploymentRuntimeView {
    const tcp = this.listeners
    const external = this.external?.status ?? null
    if (!tcp || this.view.status !== 'running') return { ...this.view, mqtt: null, external }
    const addresses = [...tcp.addresses(), ...(this.extraListeners?.addresses() ?? [])]
    return { ...this.view, mqtt: { host: this.host, port: tcp.listeners[0]!.port, addresses }, external }
  }

  /**
   * Which broker the deployment uses from its next start: its own, or an external one it attaches
   * to with `clientId` (unique per Junction node and deployment); `nodeName` picks which of the
   * external broker's servers this node prefers.
   */
  useBroker(settings: BrokerSettings, clientId: string, nodeName?: string): void {
    this.brokerSettings = settings
    this.externalClientId = clientId
    this.nodeName = nodeName
  }

  /** The external broker connection's figures while the deployment runs attached to one. */
  externalStats(): { connected: boolean; received: number; refused: number } | undefined {
    const e = this.external
    return e && { connected: e.connected, ...e.stats }
  }

  /** The broker's figures while it runs. */
  brokerStats(): BrokerStats | undefined {
    return this.broker?.stats()
  }

  get running(): boolean {
    return this.view.status === 'running'
  }

  /**
   * Starts the broker and its listeners. A chosen port that is taken, or a certificate that
   * cannot serve TLS, leaves the deployment in `error` with the reason; an unset port that is
   * taken moves to the next free one and the log says so.
   */
  async start(config: ListenerConfig): Promise<void> {
    if (this.running) return
    if (this.brokerSettings.mode === 'external') return this.attach()
    const settings = this.mqttSettings
    const [tcpSpec] = planListeners({ port: config.port, explicit: config.explicitPort }, settings, config.defaultPorts ?? DEFAULT_LISTENER_PORTS)
    const broker = new MqttBroker({ limits: this.brokerLimits, access: this.deviceAccess, sink: this.engine })
    try {
      // Plain TCP apart from the others: an edit of the TLS/WebSocket listeners reopens only those.
      const tcp = await BrokerListeners.start(broker, { host: config.host, listeners: [tcpSpec!], onClientError: this.clientError })
      this.broker = broker
      this.listeners = tcp
      this.listenerConfig = config
      this.host = config.host
      try {
        await this.openExtraListeners()
      } catch (err) {
        this.listeners = undefined
        this.broker = undefined
        await tcp.close()
        throw err
      }
      this.view = { status: 'running', statusReason: null }
      const moved = tcp.listeners[0]!.movedFrom
      if (moved !== undefined) this.logger.warn(`MQTT port ${moved} is in use: deployment ${this.id} listens on ${tcp.listeners[0]!.port} instead (set its mqttPort or JUNCTION_MQTT_PORT to choose)`)
      const others = (this.extraListeners?.listeners ?? []).map((l) => `${l.transport} ${l.port}`)
      this.logger.info(`deployment ${this.id}: MQTT broker listening on ${config.host}:${tcp.listeners[0]!.port}${others.length ? ` (${others.join(', ')})` : ''}`)
    } catch (err) {
      await broker.close()
      const reason = listenerFailure(err)
      this.view = { status: 'error', statusReason: reason }
      this.logger.error(`deployment ${this.id} could not start: ${reason}`)
    }
  }

  /**
   * Attaches to the external broker: running at once (connectors and rules can be set up), but
   * connecting only on `connectExternal`, once the rules are installed: a resumed session
   * delivers its kept messages right after CONNACK, and a message no rule sees yet would be
   * acknowledged and lost. The client reconnects by itself until `stop`.
   */
  private attach(): void {
    const settings = this.brokerSettings
    if (settings.mode !== 'external') return
    const client = new ExternalBrokerClient(settings, this.externalClientId, this.engine, this.logger.child({ deployment: this.id, broker: 'external' }), this.nodeName === undefined ? {} : { nodeName: this.nodeName })
    this.external = client
    if (settings.topics === undefined) {
      // Derived from the rules: a rule saved or deleted changes the subscriptions at once.
      this.stopFollowingRules = this.engine.onFiltersChanged(() => client.setFilters(this.engine.topicFilters()))
      client.setFilters(this.engine.topicFilters())
    } else {
      client.setFilters(settings.topics)
    }
    this.view = { status: 'running', statusReason: null }
    this.logger.info(`deployment ${this.id}: attaching to the external broker ${settings.servers.join(', ')} as ${this.externalClientId}`)
  }

  /** Starts the external broker's connection (after the deployment's rules are installed). */
  connectExternal(): void {
    this.external?.start()
  }

  /**
   * Applies edited TLS, WebSocket and certificate settings to a running broker: those listeners
   * close and open again as the settings now say, while plain TCP devices stay connected. A
   * listener that cannot open leaves the deployment running on the others, with the reason.
   */
  async reopenExtraListeners(): Promise<void> {
    if (!this.running || !this.broker) return
    await this.extraListeners?.close()
    this.extraListeners = undefined
    try {
      await this.openExtraListeners()
      this.view = { status: 'running', statusReason: null }
    } catch (err) {
      const reason = listenerFailure(err)
      this.view = { status: 'running', statusReason: reason }
      this.logger.error(`deployment ${this.id}: ${reason}`)
    }
  }

  private async openExtraListeners(): Promise<void> {
    const config = this.listenerConfig!
    const settings = this.mqttSettings
    const specs = planListeners({ port: config.port, explicit: config.explicitPort }, settings, config.defaultPorts ?? DEFAULT_LISTENER_PORTS).slice(1)
    if (specs.length === 0) return
    const secure = specs.some((s) => s.transport === 'tls' || s.transport === 'wss')
    const certificate = secure ? await this.certificate(settings.tls) : undefined
    this.extraListeners = await BrokerListeners.start(this.broker!, {
      host: config.host,
      listeners: specs,
      ...(certificate ? { certificate } : {}),
      maxFrameBytes: 2 * settings.maxPacketSize,
      onClientError: this.clientError,
    })
    if (certificate) this.logCertificate(certificate)
    for (const l of this.extraListeners.listeners) {
      if (l.movedFrom !== undefined) this.logger.warn(`${l.transport} port ${l.movedFrom} is in use: deployment ${this.id} listens for ${l.transport} on ${l.port} instead (set ${PORT_SETTING[l.transport]} to choose)`)
    }
  }

  private readonly clientError = (transport: Transport, err: Error, peerhost: string | undefined) => {
    this.logger.debug(`deployment ${this.id}: ${transport} connection from ${peerhost ?? 'unknown'} failed: ${err.message}`)
  }

  /** The user's certificate when the settings have one, else the data dir's self-signed one. */
  private async certificate(tls: MqttSettings['tls']): Promise<BrokerCertificate> {
    if (tls.certificate !== null || tls.key !== null) return configuredCertificate(tls.certificate, tls.key)
    return selfSignedCertificate(this.dataDir)
  }

  private logCertificate(c: BrokerCertificate): void {
    if (c.origin === 'configured') {
      this.logger.info(`deployment ${this.id}: TLS and WSS use the configured certificate ${c.subject} (SHA-256 ${c.fingerprint256}, valid until ${c.validTo})`)
    } else {
      this.logger.info(`deployment ${this.id}: TLS and WSS use the self-signed certificate ${c.origin === 'generated' ? 'generated now' : 'generated earlier'} in ${c.files!.cert} (SHA-256 ${c.fingerprint256}); give it to devices as their CA file, or set mqtt.tls.certificate and key`)
    }
  }

  async stop(): Promise<void> {
    // Rules stopping with the deployment are no reason to unsubscribe: the session keeps its
    // subscriptions, so the broker keeps the messages until the deployment runs again.
    this.stopFollowingRules?.()
    this.stopFollowingRules = undefined
    this.rules.stopAll()
    await Promise.all([...this.connectors.values()].map((c) => c.stop('deployment stopped')))
    // Listeners first: no connection may arrive at a broker that is closing.
    await Promise.all([this.listeners?.close(), this.extraListeners?.close()])
    this.listeners = undefined
    this.extraListeners = undefined
    await this.broker?.close()
    this.broker = undefined
    await this.external?.stop()
    this.external = undefined
    this.view = { status: 'stopped', statusReason: null }
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

  /** A connector's live connection manager (checks and Test action on rule actions). */
  connector(id: string): ManagedConnector | undefined {
    return this.connectors.get(id)
  }

  /** The deployment's broker while it runs, for a built-in action's Test. */
  deploymentBroker(): DeploymentBroker | undefined {
    return this.broker ?? this.external
  }

  async removeConnector(id: string): Promise<void> {
    const c = this.connectors.get(id)
    this.connectors.delete(id)
    await c?.stop('deleted')
  }

  // ---- Device access and broker settings: the control layer sets them, the broker reads them ----

  private deviceAccess: DeviceAccess | undefined
  private mqttSettings: MqttSettings = DEFAULT_MQTT_SETTINGS
  private brokerLimits: BrokerLimits = limitsOf(DEFAULT_MQTT_SETTINGS)

  /**
   * Who may connect and what they may do, from the next start on. Without it every client counts
   * as anonymous, so `allowAnonymous` alone decides (refused by default).
   */
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
   * Takes new broker settings (at boot, on create, after every PATCH of `mqtt`). Who may connect
   * and the limits apply to a running broker at once; listeners and the certificate at the next
   * start (the deployment service restarts the runtime when they change).
   */
  applyMqttSettings(settings: MqttSettings): void {
    this.mqttSettings = settings
    this.brokerLimits = limitsOf(settings)
    this.broker?.setLimits(this.brokerLimits)
  }

  /** Every connector this runtime holds (running or stopped) with its status now. */
  connectorViews(): Array<[id: string, view: ConnectorStatusView]> {
    return [...this.connectors].map(([id, c]) => [id, c.status])
  }

  connectorStatus(id: string, enabled: boolean): ConnectorStatusView {
    const c = this.connectors.get(id)
    if (c) return c.status
    return { status: 'stopped', statusReason: enabled ? 'deployment stopped' : 'disabled', statusCode: null, statusSince: new Date().toISOString(), lastConnectedAt: null }
  }
}

function limitsOf(s: MqttSettings): BrokerLimits {
  return {
    allowAnonymous: s.allowAnonymous, maxPacketSize: s.maxPacketSize, maxConnections: s.maxConnections,
    serverKeepAlive: s.serverKeepAlive, maxInflight: s.maxInflight, maxQueuedMessages: s.maxQueuedMessages,
    maxSessionExpiry: s.maxSessionExpiry, maxMessageRate: s.maxMessageRate, maxConnectionRate: s.maxConnectionRate,
  }
}

/** Why listeners could not open, saying which setting to change. */
function listenerFailure(err: unknown): string {
  if (err instanceof PortInUseError) return `${err.message}; free it or choose another ${PORT_SETTING[err.transport]}`
  if (err instanceof CertificateError) return `${err.message}; fix mqtt.tls.certificate and mqtt.tls.key, or clear both for a self-signed certificate`
  return `MQTT listener failed: ${(err as Error).message}`
}
