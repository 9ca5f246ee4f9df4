import type { FastifyInstance } from 'fastify'
import type { Static } from '@sinclair/typebox'
import { Type } from '@sinclair/typebox'
import { ApiError } from '../../core/errors.js'
import type { ApiServices } from '../api-services.js'
import { ConnectorType, Login, LoginResult, Me, errorResponses, listOf } from '../schemas.js'

/** Health, login/logout, who is calling, connector types and the OpenAPI document. */
export async function systemRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const startedAt = Date.now()

  app.get('/api/v1/health', {
    config: { public: true },
    schema: { tags: ['system'], summary: 'Liveness (no authentication)', response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String(), uptimeS: Type.Integer() }) } },
  }, async () => ({ status: 'ok' as const, version: services.version, uptimeS: Math.floor((Date.now() - startedAt) / 1000) }))

  app.post<{ Body: Static<typeof Login> }>('/api/v1/login', {
    config: { public: true },
    schema: { tags: ['auth'], summary: 'Log in as a console user; answers a bearer token that expires', description: 'After repeated failures of one username or address, answers 429 with Retry-After without checking the password.', body: Login, response: { 200: LoginResult, ...errorResponses(400, 401, 429) } },
  }, async (request, reply) => {
    const session = await services.auth.login(request.body.username, request.body.password, request.ip)
    if (session && 'retryAfterMs' in session) {
      void reply.header('retry-after', String(Math.ceil(session.retryAfterMs / 1000)))
      throw new ApiError('TOO_MANY_REQUESTS', 'Too many failed logins; try again later', { hint: 'Wait the seconds in Retry-After.' })
    }
    if (!session) throw new ApiError('UNAUTHORIZED', 'Wrong username or password', { hint: 'The admin password was printed at first start, or set with JUNCTION_ADMIN_PASSWORD.' })
    return { ...session, username: request.body.username }
  })

  app.post('/api/v1/logout', {
    schema: { tags: ['auth'], summary: 'End the session of the bearer token used', response: { 204: Type.Null() } },
  }, async (request, reply) => {
    const [scheme, token] = (request.headers.authorization ?? '').split(' ', 2)
    if (scheme?.toLowerCase() === 'bearer' && token) await services.auth.logout(token)
    return reply.status(204).send()
  })

  app.get('/api/v1/me', {
    schema: { tags: ['auth'], summary: 'Who is calling: the console user or API key of these credentials, and its role', response: { 200: Me } },
  }, async (request) => {
    // The authentication hook set the principal: this route is not public.
    const { name, kind, role } = request.principal!
    return { name, kind, role }
  })

  app.get('/api/v1/connector-types', {
    schema: { tags: ['connectors'], summary: 'Connector types with the JSON Schemas of their config and action params', response: { 200: listOf(ConnectorType) } },
  }, async () => ({
    data: services.types.list().map((d) => ({ type: d.type, title: d.title, summary: d.summary, configSchema: d.configSchema, paramsSchema: d.paramsSchema })),
  }))

  app.get('/metrics', {
    schema: { tags: ['system'], summary: 'Rule and action metrics in Prometheus text format (authenticate like any route)' },
  }, async (_request, reply) => reply.type('text/plain; version=0.0.4').send(await services.prometheus()))

  app.get('/api/v1/openapi.json', {
    schema: { tags: ['system'], summary: 'This OpenAPI document', hide: true },
  }, async () => app.swagger())
}
