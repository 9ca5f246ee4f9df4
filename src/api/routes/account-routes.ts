import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import type { ApiServices } from '../api-services.js'
import { errorResponses, listOf } from '../schemas.js'

const RoleName = Type.Union([Type.Literal('admin'), Type.Literal('editor'), Type.Literal('viewer')], {
  description: '`admin`: everything; `editor`: connectors, rules, device users/ACLs, failed messages, start/stop; `viewer`: read only (secrets masked). See docs/api.md, "Roles".',
})
const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._@-]+$', description: 'Letters, digits and `. _ @ -` (no colon: the name is the HTTP Basic user).' })
const Password = Type.String({ minLength: 8, maxLength: 1024, writeOnly: true, description: 'At least 8 characters; stored as a scrypt hash, never returned.' })
const Timestamp = Type.String({ format: 'date-time' })

const User = Type.Object({ username: Type.String(), role: RoleName, createdAt: Timestamp, updatedAt: Timestamp }, { $id: 'ConsoleUser', description: 'A console user; the password is never returned.' })
const ApiKey = Type.Object({ key: Type.String(), role: RoleName, description: Type.String(), createdAt: Timestamp }, { $id: 'ApiKey', description: 'An API key; its secret is answered only when the key is made.' })
const NewApiKey = Type.Object({ key: Type.String(), secret: Type.String({ description: 'Shown once: only its hash is stored.' }), role: RoleName, description: Type.String(), createdAt: Timestamp })

const CreateUser = Type.Object({ username: Name, password: Password, role: RoleName }, { additionalProperties: false })
const PatchUser = Type.Object({ password: Type.Optional(Password), role: Type.Optional(RoleName) }, { additionalProperties: false, minProperties: 1 })
const CreateKey = Type.Object({
  key: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._@-]+$', description: 'The key name (the HTTP Basic user; letters, digits and `. _ @ -`); generated (`jk-...`) when left out.' })),
  role: RoleName,
  description: Type.Optional(Type.String({ maxLength: 1000 })),
}, { additionalProperties: false })
const PatchKey = Type.Object({ role: Type.Optional(RoleName), description: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false, minProperties: 1 })
const UserParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 128 }) })
const KeyParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 128 }) })

/** Console users and API keys with their roles: admins only. */
export async function accountRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const { accounts } = services
  const tags = ['users and API keys']
  const config = { role: 'admin' as const }
  app.addSchema(User)
  app.addSchema(ApiKey)

  app.get('/api/v1/users', { config, schema: { tags, summary: 'List the console users', response: { 200: listOf(Type.Ref('ConsoleUser')) } } },
    async () => ({ data: await accounts.listUsers() }))

  app.post<{ Body: Static<typeof CreateUser> }>('/api/v1/users', {
    config, schema: { tags, summary: 'Add a console user with a role', body: CreateUser, response: { 201: Type.Ref('ConsoleUser'), ...errorResponses(400, 409) } },
  }, async (request, reply) => reply.status(201).send(await accounts.createUser(request.body)))

  app.get<{ Params: Static<typeof UserParams> }>('/api/v1/users/:username', {
    config, schema: { tags, summary: 'One console user', params: UserParams, response: { 200: Type.Ref('ConsoleUser'), ...errorResponses(404) } },
  }, async (request) => accounts.getUser(request.params.username))

  app.patch<{ Params: Static<typeof UserParams>; Body: Static<typeof PatchUser> }>('/api/v1/users/:username', {
    config, schema: { tags, summary: "Change a console user's password or role (takes effect on its next request)", params: UserParams, body: PatchUser, response: { 200: Type.Ref('ConsoleUser'), ...errorResponses(400, 404, 409) } },
  }, async (request) => accounts.updateUser(request.params.username, request.body))

  app.delete<{ Params: Static<typeof UserParams> }>('/api/v1/users/:username', {
    config, schema: { tags, summary: 'Remove a console user; its sessions end at once', params: UserParams, response: { 204: Type.Null(), ...errorResponses(404, 409) } },
  }, async (request, reply) => {
    await accounts.deleteUser(request.params.username)
    return reply.status(204).send()
  })

  app.get('/api/v1/api-keys', { config, schema: { tags, summary: 'List the API keys (never their secrets)', response: { 200: listOf(Type.Ref('ApiKey')) } } },
    async () => ({ data: await accounts.listApiKeys() }))

  app.post<{ Body: Static<typeof CreateKey> }>('/api/v1/api-keys', {
    config, schema: { tags, summary: 'Make an API key; the answer has its secret, shown this once', body: CreateKey, response: { 201: NewApiKey, ...errorResponses(400, 409) } },
  }, async (request, reply) => reply.status(201).send(await accounts.createApiKey(request.body)))

  app.get<{ Params: Static<typeof KeyParams> }>('/api/v1/api-keys/:key', {
    config, schema: { tags, summary: 'One API key (not its secret)', params: KeyParams, response: { 200: Type.Ref('ApiKey'), ...errorResponses(404) } },
  }, async (request) => accounts.getApiKey(request.params.key))

  app.patch<{ Params: Static<typeof KeyParams>; Body: Static<typeof PatchKey> }>('/api/v1/api-keys/:key', {
    config, schema: { tags, summary: "Change an API key's role or description", params: KeyParams, body: PatchKey, response: { 200: Type.Ref('ApiKey'), ...errorResponses(400, 404, 409) } },
  }, async (request) => accounts.updateApiKey(request.params.key, request.body))

  app.delete<{ Params: Static<typeof KeyParams> }>('/api/v1/api-keys/:key', {
    config, schema: { tags, summary: 'Revoke an API key at once', params: KeyParams, response: { 204: Type.Null(), ...errorResponses(404, 409) } },
  }, async (request, reply) => {
    await accounts.deleteApiKey(request.params.key)
    return reply.status(204).send()
  })
}
