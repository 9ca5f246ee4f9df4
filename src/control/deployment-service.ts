import { DEFAULT_MQTT_SETTINGS, EMBEDDED_BROKER, type DeploymentRecord, type MqttSettings, type Plan } from '../core/domain.js'
import { ApiError } from '../core/errors.js'
import { newId } from '../core/ids.js'
import { isUniqueViolation } from '../store/database.js'
import type { Store } from '../store/store.js'
import type { ListenerAddress } from '../broker/listeners/broker-listeners.js'
import { DeploymentRuntime, type DeploymentRuntimeView, type RuntimeLogger } from '../runtime/deployment-runtime.js'
import { brokerSettingsFrom, maskBrokerSettings, refuseDeviceSettings } from './broker-settings.js'
import { DeploymentDeviceAccess } from './device-access.js'
import { applyMqttPatch, maskMqttSettings, type MqttSettingsPatch } from './mqtt-settings.js'

export const DEFAULT_DEPLOYMENT_ID = 'default'
const FIRST_MQTT_PORT = 1883

/**
 * A deployment as the API shows it: `mqtt` holds every broker setting (the TLS key masked) and
 * where the broker listens now (`host`/`port` null while it is not running, plus whatever else
 * the runtime reports about its listeners).
 */
export interface DeploymentView extends Omit<DeploymentRecord, 'mqttSettings' | 'broker'>, Omit<DeploymentRuntimeView, 'mqtt' | 'external'> {
  readonly mqtt: MqttSettings & { readonly host: string | null; readonly port: number | null; readonly addresses: readonly ListenerAddress[] }
  /**
   * Which broker: `{mode: "embedded"}`, or the external broker's settings (secrets masked) with
   * the connection's status, reason, code, server, client ID and subscriptions.
   */
  readonly broker: Record<string, unknown>
}

export interface DeploymentInput {
  name: string
  plan?: Plan
  mqttPort?: number | null
  mqtt?: MqttSettingsPatch
  /** `broker` as the API sends it (validated here: defaults, masked secrets, servers required). */
  broker?: unknown
  /** Import only (not in the API body): keeps an exported deployment's ID. */
  id?: string
}

export interface DeploymentServiceOptions {
  mqttHost: string
  /** JUNCTION_MQTT_PORT: the `default` deployment's port, chosen explicitly. */
  defaultMqttPort: number | undefined
  /** Where actions keep their disk buffers. */
  dataDir: string
  /** JUNCTION_MQTT_ALLOW_ANONYMOUS: the `default` deployment's allowAnonymous, set at every start. */
  defaultAllowAnonymous?: boolean | undefined
  /** This Junction node's name: part of the client ID an external broker sees. */
  nodeName: string
}

/** Deployments: their records in the store and their runtimes (broker + connectors). */
export class DeploymentService {
  private readonly runtimes = new Map<string, DeploymentRuntime>()
  private readonly accesses = new Map<string, DeploymentDeviceAccess>()
  /** Run after a deployment's broker started, in order: its connectors start, then its rules. */
  private readonly startHooks: Array<(id: string) => Promise<void>> = []

  constructor(private readonly store: Store, private readonly logger: RuntimeLogger, private readonly options: DeploymentServiceOptions) {}

  /** First start: creates `default` (dedicated); every start: runs what should run. */
  async boot(): Promise<void> {
    if (!(await this.store.deployments.get(DEFAULT_DEPLOYMENT_ID))) {
      const now = new Date().toISOString()
      await this.store.deployments.insert({ id: DEFAULT_DEPLOYMENT_ID, name: 'default', plan: 'dedicated', desiredState: 'running', mqttPort: null, mqttSettings: DEFAULT_MQTT_SETTINGS, broker: EMBEDDED_BROKER, createdAt: now, updatedAt: now })
      this.logger.info('created deployment "default" (plan dedicated)')
    }
    const forced = this.options.defaultAllowAnonymous
    const stored = await this.store.deployments.get(DEFAULT_DEPLOYMENT_ID)
    if (forced !== undefined && stored && stored.mqttSettings.allowAnonymous !== forced) {
      await this.store.deployments.update({ ...stored, mqttSettings: { ...stored.mqttSettings, allowAnonymous: forced }, updatedAt: new Date().toISOString() })
      this.logger.info(`deployment "default": anonymous MQTT clients ${forced ? 'allowed' : 'refused'} (JUNCTION_MQTT_ALLOW_ANONYMOUS)`)
    }
    for (const d of await this.store.deployments.list()) {
      const runtime = this.runtime(d.id)
      runtime.applyMqttSettings(d.mqttSettings)
      runtime.useBroker(d.broker, this.clientId(d), this.options.nodeName)
      this.access(d.id).setAcl((await this.store.mqttAccess.getAcl(d.id)).acl)
      if (d.desiredState === 'running') await this.startRuntime(d, runtime)
    }
  }

  /**
   * Another node changed this deployment (cluster change feed): brings this node's runtime in line
   * with the stored record, as `update`, `start`, `stop` and `remove` do after their writes, writing
   * nothing. `before` is the record this node last applied (undefined: it did not know it).
   */
  async applyStored(id: string, record: DeploymentRecord | undefined, before: DeploymentRecord | undefined): Promise<{ started: boolean }> {
    if (!record) {
      const runtime = this.runtimes.get(id)
      await runtime?.stop()
      this.runtimes.delete(id)
      this.accesses.delete(id)
      return { started: false }
    }
    const runtime = this.runtime(id)
    runtime.applyMqttSettings(record.mqttSettings)
    runtime.useBroker(record.broker, this.clientId(record), this.options.nodeName)
    if (!before) this.access(id).setAcl((await this.store.mqttAccess.getAcl(id)).acl)
    if (record.desiredState === 'stopped') {
      if (runtime.status.status !== 'stopped') await runtime.stop()
      return { started: false }
    }
    if (before && runtime.running) {
      // Another port, or another broker (embedded/external, or the external one's settings): the
      // deployment restarts on it, as `update` does on the node that made the change.
      if (record.mqttPort !== before.mqttPort || JSON.stringify(record.broker) !== JSON.stringify(before.broker)) {
        await runtime.stop()
      } else if (JSON.stringify([record.mqttSettings.listeners, record.mqttSettings.tls]) !== JSON.stringify([before.mqttSettings.listeners, before.mqttSettings.tls])) {
        await runtime.reopenExtraListeners()
      }
    }
    const wasRunning = runtime.running
    await this.startRuntime(record, runtime)
    return { started: !wasRunning && runtime.running }
  }

  async list(): Promise<DeploymentView[]> {
    return (await this.store.deployments.list()).map((d) => this.view(d))
  }

  async get(id: string): Promise<DeploymentView> {
    return this.view(await this.record(id))
  }

  async record(id: string): Promise<DeploymentRecord> {
    const d = await this.store.deployments.get(id)
    if (!d) throw new ApiError('DEPLOYMENT_NOT_FOUND', `Deployment "${id}" does not exist`, { hint: 'List deployments with GET /api/v1/deployments.' })
    return d
  }

  allRuntimes(): DeploymentRuntime[] {
    return [...this.runtimes.values()]
  }

  runtime(id: string): DeploymentRuntime {
    let r = this.runtimes.get(id)
    if (!r) {
      const runtime = new DeploymentRuntime(id, this.logger, this.options.dataDir)
      const access = new DeploymentDeviceAccess({
        findUser: (username) => this.store.mqttAccess.getUser(id, username),
        allowAnonymous: () => runtime.limits.allowAnonymous,
        onError: (err) => this.logger.error(`deployment ${id}: device authentication could not read the store: ${(err as Error).message}`),
      })
      runtime.useAccess(access)
      this.accesses.set(id, access)
      this.runtimes.set(id, (r = runtime))
    }
    return r
  }

  /** Login counters of every deployment (for /metrics). */
  loginCounts(): Array<{ deploymentId: string; succeeded: number; failed: number; anonymousRefused: number }> {
    return [...this.accesses].map(([deploymentId, access]) => ({ deploymentId, ...access.guard.counts() }))
  }

  /** The deployment's device access (the same object its runtime hands the broker). */
  access(id: string): DeploymentDeviceAccess {
    this.runtime(id)
    return this.accesses.get(id)!
  }

  addStartHook(hook: (id: string) => Promise<void>): void {
    this.startHooks.push(hook)
  }

  async create(input: DeploymentInput): Promise<DeploymentView> {
    const now = new Date().toISOString()
    const mqttPort = input.mqttPort ?? null
    const broker = input.broker === undefined ? EMBEDDED_BROKER : brokerSettingsFrom(input.broker)
    const id = input.id ?? newId('d')
    if (input.mqtt !== undefined || input.mqttPort !== undefined) refuseDeviceSettings({ id, broker }, 'mqttPort and mqtt (the embedded broker\'s settings)')
    const mqttSettings = applyMqttPatch(DEFAULT_MQTT_SETTINGS, input.mqtt, mqttPort)
    const d: DeploymentRecord = { id, name: input.name, plan: input.plan ?? 'dedicated', desiredState: 'running', mqttPort, mqttSettings, broker, createdAt: now, updatedAt: now }
    try {
      await this.store.deployments.insert(d)
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(input.name)
      throw err
    }
    this.runtime(d.id).applyMqttSettings(d.mqttSettings)
    this.runtime(d.id).useBroker(d.broker, this.clientId(d), this.options.nodeName)
    await this.startRuntime(d, this.runtime(d.id))
    return this.view(d)
  }

  async update(id: string, patch: Partial<DeploymentInput>): Promise<DeploymentView> {
    const d = await this.record(id)
    const broker = patch.broker === undefined ? d.broker : brokerSettingsFrom(patch.broker, d.broker)
    if (patch.mqtt !== undefined || patch.mqttPort !== undefined) refuseDeviceSettings({ id, broker }, 'mqttPort and mqtt (the embedded broker\'s settings)')
    const mqttPort = patch.mqttPort === undefined ? d.mqttPort : patch.mqttPort
    const next: DeploymentRecord = {
      ...d,
      broker,
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.plan === undefined ? {} : { plan: patch.plan }),
      mqttPort,
      mqttSettings: applyMqttPatch(d.mqttSettings, patch.mqtt, mqttPort),
      updatedAt: new Date().toISOString(),
    }
    try {
      await this.store.deployments.update(next)
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(next.name)
      throw err
    }
    const runtime = this.runtime(id)
    if (JSON.stringify(next.broker) !== JSON.stringify(d.broker)) {
      // Another broker (or other settings of the external one): the deployment attaches anew.
      runtime.useBroker(next.broker, this.clientId(next), this.options.nodeName)
      if (runtime.status.status !== 'stopped') {
        await runtime.stop()
        await this.startRuntime(next, runtime)
      }
      return this.view(next)
    }
    if (patch.mqtt !== undefined) runtime.applyMqttSettings(next.mqttSettings)
    // Who may connect and the limits apply at once (above); edited TLS/WebSocket listeners or
    // certificate reopen those listeners only, so devices on plain TCP stay connected.
    const extrasChanged = JSON.stringify([next.mqttSettings.listeners, next.mqttSettings.tls]) !== JSON.stringify([d.mqttSettings.listeners, d.mqttSettings.tls])
    if (extrasChanged && next.mqttPort === d.mqttPort) await runtime.reopenExtraListeners()
    if (next.mqttPort !== d.mqttPort && runtime.status.status !== 'stopped') {
      // A new port takes effect now: restart the listener (and so the connectors) on it.
      await runtime.stop()
      await this.startRuntime(next, runtime)
    }
    return this.view(next)
  }

  async remove(id: string, connectorCount: number): Promise<void> {
    await this.record(id)
    if (connectorCount > 0) {
      throw new ApiError('DEPLOYMENT_NOT_EMPTY', `Deployment "${id}" still has ${connectorCount} connector(s)`, { hint: 'Delete its connectors first.' })
    }
    await this.runtime(id).stop()
    this.runtimes.delete(id)
    this.accesses.delete(id)
    await this.store.deployments.delete(id)
  }

  async start(id: string): Promise<DeploymentView> {
    const d = { ...(await this.record(id)), desiredState: 'running' as const, updatedAt: new Date().toISOString() }
    await this.store.deployments.update(d)
    await this.startRuntime(d, this.runtime(id))
    return this.view(d)
  }

  async stop(id: string): Promise<DeploymentView> {
    const d = { ...(await this.record(id)), desiredState: 'stopped' as const, updatedAt: new Date().toISOString() }
    await this.store.deployments.update(d)
    await this.runtime(id).stop()
    return this.view(d)
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((r) => r.stop()))
  }

  private async startRuntime(d: DeploymentRecord, runtime: DeploymentRuntime): Promise<void> {
    if (runtime.running) return
    const envPort = d.id === DEFAULT_DEPLOYMENT_ID ? this.options.defaultMqttPort : undefined
    const port = envPort ?? d.mqttPort
    await runtime.start({ host: this.options.mqttHost, port: port ?? FIRST_MQTT_PORT, explicitPort: port !== null && port !== undefined })
    if (!runtime.running) return
    for (const hook of this.startHooks) await hook(d.id)
    runtime.connectExternal()
  }

  /** The client ID of this node's connection for the deployment: unique per node and deployment. */
  private clientId(d: DeploymentRecord): string {
    return d.broker.mode === 'external' ? `${d.broker.clientIdPrefix}${this.options.nodeName}-${d.id}` : ''
  }

  private view(d: DeploymentRecord): DeploymentView {
    const { mqttSettings, broker, ...record } = d
    const { mqtt: live, external, ...status } = this.runtime(d.id).status
    const connection = broker.mode === 'embedded' ? {} : external ?? {
      status: 'stopped', statusReason: null, statusCode: null, statusSince: d.updatedAt, lastConnectedAt: null, server: null, clientId: this.clientId(d), subscriptions: [],
    }
    // Whatever else the runtime reports comes after the settings, so it is shown; what it reports
    // per listener (`listeners.tls.…`) joins that listener's settings instead of replacing them all.
    return {
      ...record, ...status,
      mqtt: { ...maskMqttSettings(mqttSettings), host: live?.host ?? null, port: live?.port ?? null, addresses: live?.addresses ?? [] },
      broker: { ...maskBrokerSettings(broker), ...connection },
    }
  }
}

function nameTaken(name: string): ApiError {
  return new ApiError('NAME_TAKEN', `A deployment named "${name}" already exists`, { hint: 'Choose another name.' })
}
