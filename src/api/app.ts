import Fastify, { LogController, type FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import type { Logger } from 'pino'
import { ApiError } from '../core/errors.js'
import type { ApiServices } from './api-services.js'
import { answerClientError, answerFrameworkError, installErrorHandling } from './error-handler.js'
import { installJsonBodyParser } from './json-limits.js'
import { documentShapes } from './openapi-shapes.js'
import { connectorRoutes } from './routes/connector-routes.js'
import { consoleRoutes } from './routes/console-routes.js'
import { deploymentRoutes } from './routes/deployment-routes.js'
import { failedMessageRoutes } from './routes/failed-message-routes.js'
import { mqttAclRoutes } from './routes/mqtt-acl-routes.js'
import { mqttUserRoutes } from './routes/mqtt-user-routes.js'
import { ruleRoutes } from './routes/rule-routes.js'
import { systemRoutes } from './routes/system-routes.js'
import { transferRoutes } from './routes/transfer-routes.js'
import { ConnectorDetails, ConnectorSummary, Deployment, ErrorBody, ProbeResult } from './schemas.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs no authentication (health, login). */
    public?: boolean
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
  for (const schema of [ErrorBody, Deployment, ConnectorSummary, ConnectorDetails, ProbeResult]) app.addSchema(schema)

  app.addHook('onRoute', (route) => {
    if (route.config?.public) {
      route.schema = { ...route.schema, security: [] } as typeof route.schema
    }
  })
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return
    if (request.routeOptions.url === undefined) return // not found: answered by the 404 handler
    const principal = await services.auth.authenticate(request.headers.authorization)
    if (!principal) {
      throw new ApiError('UNAUTHORIZED', 'Authentication required', { hint: 'Send an API key as HTTP Basic (key:secret), or a Bearer token from POST /api/v1/login.' })
    }
  })

  await app.register(systemRoutes, { services })
  await app.register(deploymentRoutes, { services })
  await app.register(connectorRoutes, { services })
  await app.register(ruleRoutes, { services })
  await app.register(failedMessageRoutes, { services })
  await app.register(mqttUserRoutes, { services })
  await app.register(mqttAclRoutes, { services })
  await app.register(transferRoutes, { services })
  await app.register(consoleRoutes)
  return app
}
