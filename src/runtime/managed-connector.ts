import type { Connector, ConnectorDefinition, ConnectorLogger, Health } from '../connector-api/index.js'
import { ConnectorError, errorMessage, reconnectDelayMs } from '../connector-api/index.js'
import type { ConnectorStatus } from '../core/domain.js'

export interface ConnectorStatusView {
  readonly status: ConnectorStatus
  /** Why it is not connected (null when connected). */
  readonly statusReason: string | null
  /** Stable code of that reason, e.g. CONNECTION_REFUSED. */
  readonly statusCode: string | null
  readonly statusSince: string
  readonly lastConnectedAt: string | null
}

interface ResourceOptions { healthCheckIntervalMs: number; startTimeoutMs: number }

/** How long a connector's `stop` may close politely before it must drop its connections. */
const STOP_WAIT_MS = 5_000
const stopSignal = () => AbortSignal.timeout(STOP_WAIT_MS)

const resourceOptions = (config: Record<string, unknown>): ResourceOptions => {
  const r = (config.resource ?? {}) as Partial<ResourceOptions>
  return { healthCheckIntervalMs: r.healthCheckIntervalMs ?? 15_000, startTimeoutMs: r.startTimeoutMs ?? 5_000 }
}

/**
 * One connector's live connection: starts it, checks its health every interval, reconnects with
 * backoff when it is lost, and swaps in a new configuration without a gap (make before break).
 *
 * Every asynchronous step belongs to a generation; `stop` and `replace` start a new one, so a step
 * of an older generation that completes late cleans up after itself instead of touching state.
 */
export class ManagedConnector {
  private instance: Connector | undefined
  private generation = 0
  private timer: NodeJS.Timeout | undefined
  private inflight: AbortController | undefined
  private view: ConnectorStatusView
  private failures = 0
  private checking = false
  private readonly listeners = new Set<(view: ConnectorStatusView) => void>()

  constructor(
    readonly id: string,
    private readonly definition: ConnectorDefinition,
    private config: Record<string, unknown>,
    private readonly logger: ConnectorLogger,
    private readonly onStatus: (id: string, view: ConnectorStatusView) => void = () => {},
  ) {
    this.view = { status: 'stopped', statusReason: 'not started', statusCode: null, statusSince: new Date().toISOString(), lastConnectedAt: null }
  }

  get status(): ConnectorStatusView {
    return this.view
  }

  /** The started connection, for channels (rules); undefined while not connected. */
  get connection(): Connector | undefined {
    return this.view.status === 'connected' ? this.instance : undefined
  }

  /** Calls `listener` on every status change; returns the unsubscribe function. */
  subscribe(listener: (view: ConnectorStatusView) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * A user of the connection (an action) saw it fail: check health now instead of at the next
   * interval, so the status and the reconnect do not lag a failure already seen.
   */
  checkNow(): void {
    if (this.view.status !== 'connected' || this.checking) return
    const gen = this.generation
    this.clearTimer()
    void this.checkHealth(gen)
  }

  /** Begins connecting; returns at once. */
  start(): void {
    const gen = ++this.generation
    this.failures = 0
    this.setStatus('connecting', null, null)
    void this.connect(gen)
  }

  /**
   * Applies a new configuration. The old connection keeps serving until the new one has started;
   * if the new one cannot start, the old one is closed anyway (it no longer matches what is saved)
   * and the usual reconnect loop takes over with the new configuration.
   */
  async replace(config: Record<string, unknown>): Promise<void> {
    const gen = ++this.generation
    this.clearTimer()
    this.inflight?.abort()
    this.config = config
    this.failures = 0
    const old = this.instance
    if (this.view.status === 'stopped') {
      this.instance = undefined
      if (old) await old.stop(stopSignal())
      this.setStatus('connecting', null, null)
      void this.connect(gen)
      return
    }
    const next = await this.attempt(gen)
    if (gen !== this.generation) return
    this.instance = next.connector
    if (old) void old.stop(stopSignal())
    if (next.ok) this.connected(gen)
    else this.failed(gen, next.error)
  }

  async stop(reason = 'stopped'): Promise<void> {
    ++this.generation
    this.clearTimer()
    this.inflight?.abort()
    const old = this.instance
    this.instance = undefined
    this.setStatus('stopped', reason, null)
    if (old) await old.stop(stopSignal())
  }

  private async connect(gen: number): Promise<void> {
    const result = await this.attempt(gen)
    if (gen !== this.generation) return
    this.instance = result.connector
    if (result.ok) this.connected(gen)
    else this.failed(gen, result.error)
  }

  /** One start attempt on a fresh instance; a failed instance is stopped before returning. */
  private async attempt(gen: number): Promise<{ ok: true; connector: Connector } | { ok: false; connector: undefined; error: unknown }> {
    const { startTimeoutMs } = resourceOptions(this.config)
    const controller = new AbortController()
    this.inflight = controller
    let connector: Connector | undefined
    let timer: NodeJS.Timeout | undefined
    try {
      connector = this.definition.create(this.config, { connectorId: this.id, logger: this.logger })
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort()
          reject(new ConnectorError('TIMEOUT', `Could not connect within ${startTimeoutMs} ms`, { hint: 'Check that the server is reachable, or raise resource.startTimeoutMs.' }))
        }, startTimeoutMs)
      })
      await Promise.race([connector.start(controller.signal), timeout])
      if (gen !== this.generation) {
        await connector.stop(stopSignal())
        return { ok: false, connector: undefined, error: new Error('superseded') }
      }
      return { ok: true, connector }
    } catch (error) {
      if (connector) await connector.stop(stopSignal())
      return { ok: false, connector: undefined, error }
    } finally {
      clearTimeout(timer)
      if (this.inflight === controller) this.inflight = undefined
    }
  }

  private connected(gen: number): void {
    this.failures = 0
    this.view = { ...this.view, lastConnectedAt: new Date().toISOString() }
    this.setStatus('connected', null, null)
    this.schedule(gen, resourceOptions(this.config).healthCheckIntervalMs, () => this.checkHealth(gen))
  }

  private failed(gen: number, error: unknown): void {
    const e = error instanceof ConnectorError ? error : undefined
    this.setStatus('disconnected', e?.message ?? errorMessage(error), e?.code ?? 'CONNECTION_FAILED')
    const delay = reconnectDelayMs(this.failures++, resourceOptions(this.config).healthCheckIntervalMs)
    this.schedule(gen, delay, () => this.reconnect(gen))
  }

  private async reconnect(gen: number): Promise<void> {
    const old = this.instance
    this.instance = undefined
    if (old) await old.stop(stopSignal())
    if (gen === this.generation) await this.connect(gen)
  }

  private async checkHealth(gen: number): Promise<void> {
    const instance = this.instance
    if (!instance || this.checking) return
    this.checking = true
    try {
      await this.checkHealthOnce(gen, instance)
    } finally {
      this.checking = false
    }
  }

  private async checkHealthOnce(gen: number, instance: Connector): Promise<void> {
    const { healthCheckIntervalMs, startTimeoutMs } = resourceOptions(this.config)
    const controller = new AbortController()
    const timeoutMs = Math.min(healthCheckIntervalMs, Math.max(startTimeoutMs, 1000))
    let timer: NodeJS.Timeout | undefined
    const health = await Promise.race<Health>([
      instance.health(controller.signal).catch((err: unknown) => ({ status: 'disconnected', code: 'CONNECTION_FAILED', reason: errorMessage(err) })),
      new Promise<Health>((resolve) => {
        timer = setTimeout(() => {
          controller.abort()
          resolve({ status: 'disconnected', code: 'TIMEOUT', reason: `Health check got no answer within ${timeoutMs} ms` })
        }, timeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (gen !== this.generation) return
    if (health.status === 'connected') {
      this.view = { ...this.view, lastConnectedAt: new Date().toISOString() }
      if (this.view.status !== 'connected') this.setStatus('connected', null, null)
      this.schedule(gen, healthCheckIntervalMs, () => this.checkHealth(gen))
      return
    }
    this.logger.warn('connection lost', { code: health.code, reason: health.reason })
    this.failed(gen, new ConnectorError(health.code, health.reason))
  }

  private schedule(gen: number, ms: number, fn: () => Promise<void>): void {
    this.clearTimer()
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (gen === this.generation) void fn()
    }, ms)
    this.timer.unref()
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private setStatus(status: ConnectorStatus, reason: string | null, code: string | null): void {
    const changed = status !== this.view.status || reason !== this.view.statusReason
    this.view = { ...this.view, status, statusReason: reason, statusCode: code, statusSince: status !== this.view.status ? new Date().toISOString() : this.view.statusSince }
    if (changed) {
      this.onStatus(this.id, this.view)
      for (const l of this.listeners) l(this.view)
    }
  }
}
