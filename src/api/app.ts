import Fastify, { LogController, type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import type { Logger } from 'pino'
import { ApiError } from '../core/errors.js'
import type { Principal } from '../control/auth-service.js'
import { roleAllows, type RouteRole } from '../control/roles.js'
import { ROLE_DESCRIPTION, defaultRouteRole } from './route-roles.js'
import type { ApiServices } from './api-services.js'
import { answerClientError, answerFrameworkError, installErrorHandling } from './error-handler.js'
import { installJsonBodyParser } from './json-limits.js'
import { documentShapes } from './openapi-shapes.js'
import { installAuditHooks } from './audit-hooks.js'
import { installClusterHooks } from './cluster-hooks.js'
import { accountRoutes } from './routes/account-routes.js'
import { auditRoutes } from './routes/audit-routes.js'
import { connectorRoutes } from './routes/connector-routes.js'
import { consoleRoutes } from './routes/console-routes.js'
import { deploymentRoutes } from './routes/deployment-routes.js'
import { failedMessageRoutes } from './routes/failed-message-routes.js'
import { mqttAclRoutes } from './routes/mqtt-acl-routes.js'
import { mqttUserRoutes } from './routes/mqtt-user-routes.js'
import { nodeRoutes } from './routes/node-routes.js'
import { ruleRoutes } from './routes/rule-routes.js'
import { systemRoutes } from './routes/system-routes.js'
import { transferRoutes } from './routes/transfer-routes.js'
import { ConnectorDetails, ConnectorSummary, Deployment, ErrorBody, HistoryVersion, ProbeResult } from './schemas.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs no authentication (health, login). */
    public?: boolean
    /** The weakest role that may call the route; by default from the method (see route-roles.ts). */
    role?: RouteRole
  }
  interface FastifyRequest {
    /** Who sent the request (set by the authentication hook; undefined on public routes). */
    principal?: Principal
  }
}

export const BODY_LIMIT = 512 * 1024

/** The REST API: one plugin per resource, a schema on every route, authentication on all but two. */
export async function buildApi(services: ApiServices, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    // Per-request lines would drown the connector events that matter; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    ajv: {
      // Strict: unknown fields are errors (not silently dropped), no type coercion, every error at once.
      customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: true, verbose: true },
    },
  }) as unknown as FastifyInstance
  installErrorHandling(app)
  installJsonBodyParser(app)
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Junction API', version: services.version, description: 'Deployments, connectors and (soon) rules. Errors answer `{ "error": { "code", "message", "hint", "fields" } }`.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'basic', description: 'API key and secret as HTTP Basic user and password.' },
          session: { type: 'http', scheme: 'bearer', description: 'Token from POST /api/v1/login.' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    transformObject: (documents) => documentShapes((documents as { openapiObject: Partial<import('openapi-types').OpenAPIV3.Document> }).openapiObject),
  })
  for (const schema of [ErrorBody, Deployment, ConnectorSummary, ConnectorDetails, ProbeResult, HistoryVersion]) app.addSchema(schema)

  app.addHook('onRoute', (route) => {
    const method = Array.isArray(route.method) ? route.method[0]! : route.method
    const role: RouteRole = route.config?.public ? 'public' : route.config?.role ?? defaultRouteRole(method, route.url)
    route.config = { ...route.config, role }
    const schema = (route.schema ?? {}) as { description?: string }
    const description = [schema.description, ROLE_DESCRIPTION[role]].filter(Boolean).join('\n\n')
    route.schema = { ...route.schema, description, 'x-junction-role': role, ...(role === 'public' ? { security: [] } : {}) } as typeof route.schema
  })
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return
    if (request.routeOptions.url === undefined) return // not found: answered by the 404 handler
    const result = await services.auth.check(request.headers.authorization, request.ip)
    if (!result.ok && result.retryAfterMs !== undefined) {
      void reply.header('retry-after', String(Math.ceil(result.retryAfterMs / 1000)))
      throw new ApiError('TOO_MANY_REQUESTS', 'Too many failed authentications from this address or for this key', { hint: 'Wait the seconds in Retry-After, then send valid credentials.' })
    }
    if (!result.ok) {
      throw new ApiError('UNAUTHORIZED', 'Authentication required', { hint: 'Send an API key as HTTP Basic (key:secret), or a Bearer token from POST /api/v1/login.' })
    }
    request.principal = result.principal
    const needs = request.routeOptions.config.role ?? 'admin'
    if (needs !== 'public' && !roleAllows(result.principal.role, needs)) {
      throw new ApiError('FORBIDDEN', `The role ${result.principal.role} may not ${request.method} ${request.routeOptions.url}; it needs ${needs}`, { hint: 'Ask an admin for a stronger role, or use credentials that have it.' })
    }
  })

  installAuditHooks(app, services.audit)
  installClusterHooks(app, services.cluster)

  await app.register(systemRoutes, { services })
  await app.register(deploymentRoutes, { services })
  await app.register(connectorRoutes, { services })
  await app.register(ruleRoutes, { services })
  await app.register(failedMessageRoutes, { services })
  await app.register(mqttUserRoutes, { services })
  await app.register(mqttAclRoutes, { services })
  await app.register(accountRoutes, { services })
  await app.register(auditRoutes, { services })
  await app.register(transferRoutes, { services })
  await app.register(nodeRoutes, { services })
  await app.register(consoleRoutes)
  return app
}
