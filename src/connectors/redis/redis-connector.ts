import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { checkHealth, ConnectorError, deadline, hostPorts, NOT_STARTED, notStarted, probeConnection, settleWithin, timedOut, tlsOptions, toConnectorError, untilAborted } from '../../connector-api/index.js'
import type { Channel, Connector, ConnectorContext, Health, ProbeResult } from '../../connector-api/index.js'
import { classifyRedisError } from './classify-error.js'
import { compileCommand } from './command-template.js'
import type { RedisConfig, RedisParams } from './config-schema.js'
import { RedisChannel } from './redis-channel.js'


type Address = { readonly host: string; readonly port: number }
type Client = Redis | Cluster

/**
 * One Redis connector instance: between `start` and `stop` one ioredis client (a connection to
 * the server or the Sentinel-named master, or a Cluster client with a connection per node) that
 * every action shares; Redis answers in order, so one connection carries many pipelines at once.
 * The client never reconnects or queues by itself: while it is down, a send fails at once with
 * `not_connected`, and the runtime's health check rebuilds the instance.
 */
export class RedisConnector implements Connector<RedisParams> {
  private client: Client | undefined
  private readonly servers: Address[]
  private readonly target: string

  constructor(private readonly config: RedisConfig, private readonly ctx: ConnectorContext) {
    // ioredis takes {host, port} objects (Sentinels and cluster nodes alike).
    this.servers = hostPorts(config.servers, config.mode === 'sentinel' ? 26379 : 6379).map(({ host, port }) => ({ host, port }))
    const first = this.servers[0]
    this.target = config.mode === 'sentinel' ? `Sentinel master ${config.sentinelMaster}` : `${first?.host}:${first?.port}`
  }

  probe(signal: AbortSignal): Promise<ProbeResult> {
    const c = this.config
    const first = this.servers[0] ?? { host: '', port: 0 }
    let client: Redis | undefined
    const open = async (bound: AbortSignal) => {
      // In cluster mode the Test talks to the first node only; CLUSTER INFO tells the rest.
      client = c.mode === 'sentinel' ? this.newRedis(true) : this.newRedis(false, first)
      await this.connect(client, bound)
      return `${c.username ? `as user ${c.username}` : 'as the default user'}${c.tls.enable ? ' over TLS' : ''}${c.mode === 'sentinel' ? ` to master ${c.sentinelMaster}` : ''}`
    }
    const query = async () => {
      if (c.mode === 'cluster') {
        const info = String(await client!.call('CLUSTER', 'INFO'))
        const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1]
        const hint = 'Some slots have no reachable master: check the cluster (redis-cli --cluster check).'
        if (field('cluster_state') !== 'ok') throw new ConnectorError('CONNECTION_FAILED', `${this.target}: cluster_state is ${field('cluster_state') ?? 'unknown'}`, { hint })
        return `cluster_state ok, ${field('cluster_known_nodes')} node(s), ${field('cluster_size')} serving slots`
      }
      if (c.database !== 0) await client!.select(c.database)
      await client!.ping()
      return `PING answered on database ${c.database}`
    }
    return probeConnection({
      host: first.host, port: first.port, timeoutMs: c.connectTimeoutMs, tls: c.tls,
      steps: [{ name: 'authenticate', run: open }, { name: 'query', run: query }],
      classify: (err) => classifyRedisError(err, this.target),
      cleanup: () => client?.disconnect(),
    }, signal)
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.client) return
    const c = this.config
    const client = c.mode === 'cluster' ? this.newCluster() : this.newRedis(c.mode === 'sentinel', this.servers[0], c.database)
    this.client = client
    await this.connect(client, deadline(signal, c.connectTimeoutMs))
    client.once('end', () => { if (this.client === client) this.ctx.logger.warn('Redis connection lost; the health check reconnects', { target: this.target }) })
  }

  async stop(signal: AbortSignal): Promise<void> {
    const client = this.client
    this.client = undefined
    if (!client) return
    if (client.status === 'ready' && await settleWithin(client.quit(), signal)) return
    client.disconnect()
  }

  /** A PING on the live connection, bounded by connectTimeoutMs; a closed connection answers at once. */
  async health(signal: AbortSignal): Promise<Health> {
    const client = this.client
    if (!client) return NOT_STARTED
    return checkHealth(signal, { timeoutMs: this.config.connectTimeoutMs, target: this.target, classify: (x) => classifyRedisError(x, this.target) }, async () => {
      if (client.status !== 'ready') throw new ConnectorError('CONNECTION_LOST', `Connection to ${this.target} is ${client.status}`)
      await client.ping()
    })
  }

  async openChannel(params: RedisParams): Promise<Channel> {
    const client = this.client
    if (!client) throw notStarted()
    try {
      return new RedisChannel(client, compileCommand(params.command), this.target)
    } catch (err) {
      throw new ConnectorError('INVALID_PARAMS', `Invalid command template: ${(err as Error).message}`, {
        kind: 'permanent', hint: 'A command is a list like ["HSET", "dev:${clientid}", "temp", "${payload.temp}"] with a literal command name.',
      })
    }
  }

  /** Options of every connection: no reconnect and no offline queue (the runtime reconnects and holds messages). */
  private redisOptions(): RedisOptions {
    const c = this.config
    const tls = tlsOptions(c.tls)
    return {
      ...(c.username ? { username: c.username } : {}), ...(c.password ? { password: c.password } : {}), ...(tls ? { tls } : {}),
      connectTimeout: c.connectTimeoutMs, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null,
      // INFO (the ready check), CLIENT SETINFO and maintenance notifications cost round trips and ACL permissions Junction does not need.
      enableReadyCheck: false, disableClientInfo: true, maintNotifications: 'disabled',
    }
  }

  private newRedis(sentinel: boolean, address?: Address, db?: number): Redis {
    const tls = tlsOptions(this.config.tls)
    // In sentinel mode TLS applies to the Sentinels as well as to the master.
    const where = sentinel
      ? { sentinels: this.servers, name: this.config.sentinelMaster!, sentinelRetryStrategy: () => null, ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}) }
      : { host: address!.host, port: address!.port }
    return new Redis({ ...this.redisOptions(), ...where, ...(db ? { db } : {}) }).on('error', () => undefined) // failures reach the command or connect that hit them
  }

  private newCluster(): Cluster {
    const options: ClusterOptions = {
      redisOptions: this.redisOptions(), lazyConnect: true, enableOfflineQueue: false, enableReadyCheck: false,
      enableAutoPipelining: true, clusterRetryStrategy: () => null, slotsRefreshTimeout: this.config.connectTimeoutMs,
    }
    return new Cluster(this.servers, options).on('error', () => undefined)
  }

  /**
   * Connects, bounded by `signal`. ioredis rejects with "Connection is closed." and says why only
   * in an 'error' event (WRONGPASS, ECONNREFUSED...; a Cluster in 'node error'): that error is the
   * one thrown. A plain connection the server closed without a word after TCP connected is
   * TLS_REQUIRED: that is what a TLS-only port does with a plain client.
   */
  private async connect(client: Client, signal: AbortSignal): Promise<void> {
    let cause: unknown
    let opened = false
    const onError = (err: unknown) => { cause ??= err }
    const onConnect = () => { opened = true }
    client.on('error', onError).on('node error', onError).on('connect', onConnect)
    try {
      await untilAborted(client.connect(), signal, () => timedOut(this.target), () => client.disconnect())
    } catch (err) {
      client.disconnect()
      const why = cause ?? err
      const closed = !client.isCluster && opened && !this.config.tls.enable && /^Connection is closed|ECONNRESET/.test(`${(why as Error).message} ${(why as { code?: string }).code}`)
      if (closed) throw new ConnectorError('TLS_REQUIRED', `${this.target} closed the connection without answering`, { hint: 'The server probably accepts TLS connections only: turn tls.enable on.' })
      throw toConnectorError(why, this.target, { signal, classify: (x) => classifyRedisError(x, this.target) })
    } finally {
      client.off('error', onError).off('node error', onError).off('connect', onConnect)
    }
  }
}
