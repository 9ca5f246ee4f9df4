import './library-patches/debug.js'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { ConnectorDefinition } from './connector-api/index.js'
import { buildApi } from './api/app.js'
import { builtinConnectors } from './connectors/index.js'
import { AccountService } from './control/account-service.js'
import { AuditService } from './control/audit-service.js'
import { AuthService } from './control/auth-service.js'
import { ChangeHistory } from './control/change-history.js'
import { ClusterService, resolveNodeName } from './control/cluster-service.js'
import { ConnectorService } from './control/connector-service.js'
import { ConfigTransferService } from './control/config-transfer.js'
import { DeploymentService } from './control/deployment-service.js'
import { MqttAccessService } from './control/mqtt-access-service.js'
import { RuleService } from './control/rule-service.js'
import { FailedMessageService } from './control/failed-message-service.js'
import { renderPrometheus } from './runtime/prometheus.js'
import { TypeRegistry } from './control/type-registry.js'
import { createLogger, runtimeLogger } from './logger.js'
import type { Settings } from './settings.js'
import { storeLocation } from './store/database.js'
import { SecretBox } from './store/secret-box.js'
import { Store } from './store/store.js'

export const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

export interface Junction {
  readonly app: FastifyInstance
  readonly store: Store
  readonly deployments: DeploymentService
  readonly connectors: ConnectorService
  readonly rules: RuleService
  /** This node among the nodes sharing the store, and the change feed between them. */
  readonly cluster: ClusterService
  readonly logger: Logger
  /** Set on first start when no JUNCTION_ADMIN_PASSWORD was given: print it once. */
  readonly generatedAdminPassword: string | undefined
  /** Starts the HTTP listener; returns its base URL. */
  listen(): Promise<string>
  close(): Promise<void>
}

/** The composition root: store, services, runtimes and the API, wired together. */
export async function createJunction(settings: Settings, options: { connectors?: readonly ConnectorDefinition[]; logger?: Logger } = {}): Promise<Junction> {
  const logger = options.logger ?? createLogger(settings.logLevel, settings.logFormat)
  const types = new TypeRegistry(options.connectors ?? builtinConnectors)
  const box = settings.secretKey ? SecretBox.fromPassphrase(settings.secretKey) : SecretBox.fromDataDir(settings.dataDir)
  const store = await Store.open(storeLocation(settings.dataDir, settings.databaseUrl), box, (type) => types.find(type)?.configSchema)

  // One signing key for the whole installation, so a session token works on every node.
  const tokenKey = Buffer.from(await store.installationSecret('session_signing_key', () => randomBytes(32).toString('base64')), 'base64')
  const auth = new AuthService(store.auth, settings.sessionTtlMs, { log: logger.child({ component: 'auth' }), tokenKey })
  if (settings.apiKey && settings.apiSecret) await auth.ensureApiKey(settings.apiKey, settings.apiSecret)
  const generatedAdminPassword = await auth.ensureAdmin(settings.adminPassword)
  const accounts = new AccountService(store.auth, auth)
  const audit = new AuditService(store.audit, settings.auditRetentionDays)
  await audit.prune().catch((err: unknown) => logger.error({ err }, 'audit retention: old entries not deleted'))
  // Hourly, so a long-running Junction keeps no more than the retention says; unref'd, it never holds the process.
  const pruneTimer = setInterval(() => {
    audit.prune().catch((err: unknown) => logger.error({ err }, 'audit retention: old entries not deleted'))
  }, 3_600_000)
  pruneTimer.unref()
  const history = new ChangeHistory(store, types, settings.historyMaxVersions)

  const rlog = runtimeLogger(logger)
  // One name per node: the cluster's registry and an external broker's client ID agree on it.
  const nodeName = resolveNodeName(settings.nodeName, settings.dataDir, settings.httpPort)
  const deployments = new DeploymentService(store, rlog, { mqttHost: settings.mqttHost, defaultMqttPort: settings.mqttPort, dataDir: settings.dataDir, defaultAllowAnonymous: settings.mqttAllowAnonymous, nodeName })
  const connectors = new ConnectorService(store, types, deployments, rlog, history)
  const rules = new RuleService(store, types, deployments, rlog, history)
  const failedMessages = new FailedMessageService(store, deployments)
  const mqttAccess = new MqttAccessService(store, deployments)
  const transfer = new ConfigTransferService(store, types, deployments, connectors, rules, mqttAccess)
  const clusterLog = logger.child({ component: 'cluster' })
  const cluster = new ClusterService(nodeName, VERSION, store, { deployments, connectors, rules, auth }, {
    info: (m) => clusterLog.info(m), warn: (m) => clusterLog.warn(m), error: (m) => clusterLog.error(m),
  })
  connectors.useNodes({ name: cluster.nodeName, peers: (id) => cluster.peerConnectorStatuses(id) })
  rules.useNodes({ name: cluster.nodeName, peers: (id) => cluster.peerRuleCounts(id) })
  // Listening before boot: what other nodes change while this one boots is applied after it.
  try {
    await cluster.start(nodeAddress(settings.httpHost, settings.httpPort))
    await deployments.boot()
  } catch (err) {
    await cluster.stop()
    await deployments.shutdown()
    await store.close()
    throw err
  }
  cluster.booted()

  const prometheus = async () => renderPrometheus(deployments.allRuntimes(), await connectors.statuses(), deployments.loginCounts())
  const app = await buildApi({ version: VERSION, auth, accounts, audit, types, deployments, connectors, rules, failedMessages, mqttAccess, transfer, cluster, prometheus }, logger)
  await app.ready()

  let closed = false
  return {
    app, store, deployments, connectors, rules, cluster, logger, generatedAdminPassword,
    async listen() {
      await app.listen({ host: settings.httpHost, port: settings.httpPort })
      const { port } = app.server.address() as { port: number }
      const url = `http://${apiHost(settings.httpHost)}:${port}`
      cluster.setAddress(nodeAddress(settings.httpHost, port))
      return url
    },
    async close() {
      if (closed) return
      closed = true
      clearInterval(pruneTimer)
      await app.close()
      await cluster.stop()
      await deployments.shutdown()
      await store.close()
    },
  }
}

/** Where other nodes and people reach this node's API: a wildcard bind is named by the host name. */
function nodeAddress(httpHost: string, port: number): string {
  const host = httpHost === '0.0.0.0' || httpHost === '::' ? hostname() : httpHost.includes(':') ? `[${httpHost}]` : httpHost
  return `http://${host}:${port}`
}

/** A host the local machine can reach the API on. */
function apiHost(httpHost: string): string {
  return httpHost === '0.0.0.0' || httpHost === '::' ? '127.0.0.1' : httpHost
}
