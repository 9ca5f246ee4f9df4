import { DEFAULT_MQTT_SETTINGS, type DeploymentRecord, type Plan } from '../core/domain.js'
import { ApiError } from '../core/errors.js'
import { newId } from '../core/ids.js'
import { isUniqueViolation } from '../store/database.js'
import type { Store } from '../store/store.js'
import { DeploymentRuntime, type DeploymentRuntimeView, type RuntimeLogger } from '../runtime/deployment-runtime.js'

export const DEFAULT_DEPLOYMENT_ID = 'default'
const FIRST_MQTT_PORT = 1883

export interface DeploymentView extends DeploymentRecord, DeploymentRuntimeView {}

export interface DeploymentServiceOptions {
  mqttHost: string
  /** JUNCTION_MQTT_PORT: the `default` deployment's port, chosen explicitly. */
  defaultMqttPort: number | undefined
  /** JUNCTION_MQTT_ALLOW_ANONYMOUS: overrides the `default` deployment's allowAnonymous. */
  defaultAllowAnonymous?: boolean
  /** Where actions keep their disk buffers. */
  dataDir: string
}

/** Deployments: their records in the store and their runtimes (broker + connectors). */
export class DeploymentService {
  private readonly runtimes = new Map<string, DeploymentRuntime>()
  /** Run after a deployment's broker started, in order: its connectors start, then its rules. */
  private readonly startHooks: Array<(id: string) => Promise<void>> = []

  constructor(private readonly store: Store, private readonly logger: RuntimeLogger, private readonly options: DeploymentServiceOptions) {}

  /** First start: creates `default` (dedicated); every start: runs what should run. */
  async boot(): Promise<void> {
    if (!(await this.store.deployments.get(DEFAULT_DEPLOYMENT_ID))) {
      const now = new Date().toISOString()
      await this.store.deployments.insert({ id: DEFAULT_DEPLOYMENT_ID, name: 'default', plan: 'dedicated', desiredState: 'running', mqttPort: null, mqttSettings: DEFAULT_MQTT_SETTINGS, createdAt: now, updatedAt: now })
      this.logger.info('created deployment "default" (plan dedicated)')
    }
    for (const d of await this.store.deployments.list()) {
      const runtime = this.runtime(d.id)
      if (d.desiredState === 'running') await this.startRuntime(d, runtime)
    }
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
      r = new DeploymentRuntime(id, this.logger, this.options.dataDir)
      this.runtimes.set(id, r)
    }
    return r
  }

  addStartHook(hook: (id: string) => Promise<void>): void {
    this.startHooks.push(hook)
  }

  async create(input: { name: string; plan?: Plan; mqttPort?: number | null }): Promise<DeploymentView> {
    const now = new Date().toISOString()
    const d: DeploymentRecord = { id: newId('d'), name: input.name, plan: input.plan ?? 'dedicated', desiredState: 'running', mqttPort: input.mqttPort ?? null, mqttSettings: DEFAULT_MQTT_SETTINGS, createdAt: now, updatedAt: now }
    try {
      await this.store.deployments.insert(d)
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(input.name)
      throw err
    }
    await this.startRuntime(d, this.runtime(d.id))
    return this.view(d)
  }

  async update(id: string, patch: { name?: string; plan?: Plan; mqttPort?: number | null }): Promise<DeploymentView> {
    const d = await this.record(id)
    const next: DeploymentRecord = {
      ...d,
      ...(patch.name === undefined ? {} : { name: patch.name }),
      ...(patch.plan === undefined ? {} : { plan: patch.plan }),
      ...(patch.mqttPort === undefined ? {} : { mqttPort: patch.mqttPort }),
      updatedAt: new Date().toISOString(),
    }
    try {
      await this.store.deployments.update(next)
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(next.name)
      throw err
    }
    const runtime = this.runtime(id)
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
    const allowAnonymous = d.id === DEFAULT_DEPLOYMENT_ID ? this.options.defaultAllowAnonymous : undefined
    const limits = allowAnonymous === undefined ? d.mqttSettings : { ...d.mqttSettings, allowAnonymous }
    await runtime.start(this.options.mqttHost, port ?? FIRST_MQTT_PORT, port !== null && port !== undefined, limits)
    if (runtime.running) for (const hook of this.startHooks) await hook(d.id)
  }

  private view(d: DeploymentRecord): DeploymentView {
    return { ...d, ...this.runtime(d.id).status }
  }
}

function nameTaken(name: string): ApiError {
  return new ApiError('NAME_TAKEN', `A deployment named "${name}" already exists`, { hint: 'Choose another name.' })
}
