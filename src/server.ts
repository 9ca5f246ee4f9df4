import './library-patches/debug.js'
import { hostname } from 'node:os'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { ConnectorDefinition } from './connector-api/index.js'
import { buildApi } from './api/app.js'
import { builtinConnectors } from './connectors/index.js'
import { AccountService } from './control/account-service.js'
import { AuditService } from './control/audit-service.js'
import { AuthService } from './control/auth-service.js'
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

  const auth = new AuthService(store.auth, settings.sessionTtlMs, { log: logger.child({ component: 'auth' }) })
  if (settings.apiKey && settings.apiSecret) await auth.ensureApiKey(settings.apiKey, settings.apiSecret)
  const generatedAdminPassword = await auth.ensureAdmin(settings.adminPassword)
  const accounts = new AccountService(store.auth, auth)
  const audit = new AuditService(store.audit)

  const rlog = runtimeLogger(logger)
  const deployments = new DeploymentService(store, rlog, { mqttHost: settings.mqttHost, defaultMqttPort: settings.mqttPort, dataDir: settings.dataDir, defaultAllowAnonymous: settings.mqttAllowAnonymous, nodeName: settings.nodeName ?? hostname() })
  const connectors = new ConnectorService(store, types, deployments, rlog)
  const rules = new RuleService(store, types, deployments, rlog)
  const failedMessages = new FailedMessageService(store, deployments)
  const mqttAccess = new MqttAccessService(store, deployments)
  const transfer = new ConfigTransferService(store, types, deployments, connectors, rules, mqttAccess)
  await deployments.boot()

  const prometheus = async () => renderPrometheus(deployments.allRuntimes(), await connectors.statuses(), deployments.loginCounts())
  const app = await buildApi({ version: VERSION, auth, accounts, audit, types, deployments, connectors, rules, failedMessages, mqttAccess, transfer, prometheus }, logger)
  await app.ready()

  let closed = false
  return {
    app, store, deployments, connectors, rules, logger, generatedAdminPassword,
    async listen() {
      await app.listen({ host: settings.httpHost, port: settings.httpPort })
      const { port } = app.server.address() as { port: number }
      const host = settings.httpHost === '0.0.0.0' || settings.httpHost === '::' ? '127.0.0.1' : settings.httpHost
      return `http://${host}:${port}`
    },
    async close() {
      if (closed) return
      closed = true
      await app.close()
      await deployments.shutdown()
      await store.close()
    },
  }
}
