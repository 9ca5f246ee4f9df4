import type { FastifyInstance } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { ID_PATTERN } from '../../core/ids.js'
import type { ApiServices } from '../api-services.js'
import { DeploymentParams, errorResponses, listOf } from '../schemas.js'

const Username = Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$', description: 'The MQTT CONNECT username (no control characters).' })
const Password = Type.String({ minLength: 1, maxLength: 1024, writeOnly: true, description: 'The MQTT CONNECT password; stored as a scrypt hash, never returned.' })
const Superuser = Type.Boolean({ description: 'A superuser may publish and subscribe to every topic, whatever the ACL says (EMQX is_superuser).' })

const UserParams = Type.Object({
  dep: Type.String({ pattern: ID_PATTERN, description: 'Deployment ID' }),
  username: Type.String({ minLength: 1, maxLength: 256, description: 'Username (percent-encoded in the path)' }),
})

const DeviceUser = Type.Object({
  username: Type.String(),
  superuser: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time', description: 'Last change of password or superuser.' }),
}, { $id: 'DeviceUser', description: 'A device user of the deployment\'s broker; the password is never returned.' })

const CreateUser = Type.Object({ username: Username, password: Password, superuser: Type.Optional(Superuser) }, { additionalProperties: false })
const PatchUser = Type.Object({ password: Type.Optional(Password), superuser: Type.Optional(Superuser) }, { additionalProperties: false, minProperties: 1 })

const Failures = { failures: Type.Integer(), lastFailureAt: Type.String({ format: 'date-time' }) }
const LoginStats = Type.Object({
  succeeded: Type.Integer({ description: 'Logins with a device user\'s username and password (since start).' }),
  failed: Type.Integer({ description: 'Refused logins with a username: wrong password, or an unknown username while anonymous clients are refused.' }),
  anonymousRefused: Type.Integer({ description: 'Clients without a username refused because allowAnonymous is off.' }),
  failedByUsername: Type.Array(Type.Object({ username: Type.String(), ...Failures }), { description: 'The 20 usernames with the most failures.' }),
  failedByPeerhost: Type.Array(Type.Object({ peerhost: Type.String(), ...Failures }), { description: 'The 20 client addresses with the most failures.' }),
}, { description: 'Device logins of this deployment since Junction started. After a failure, the next attempts of that username or address wait (200 ms, doubling, at most 5 s) before their password is checked.' })

type DepParams = Static<typeof DeploymentParams>
type Params = Static<typeof UserParams>
const base = '/api/v1/deployments/:dep/mqtt/users'

/** Device users: who may connect to a deployment's broker with a username and password. */
export async function mqttUserRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  const { mqttAccess } = services
  const tags = ['device access']
  app.addSchema(DeviceUser)

  app.get<{ Params: DepParams }>(base, {
    schema: { tags, summary: 'List the device users (by username)', params: DeploymentParams, response: { 200: listOf(Type.Ref('DeviceUser')), ...errorResponses(404) } },
  }, async (request) => ({ data: await mqttAccess.listUsers(request.params.dep) }))

  app.post<{ Params: DepParams; Body: Static<typeof CreateUser> }>(base, {
    schema: { tags, summary: 'Add a device user; it can connect at once', params: DeploymentParams, body: CreateUser, response: { 201: Type.Ref('DeviceUser'), ...errorResponses(400, 404, 409) } },
  }, async (request, reply) => reply.status(201).send(await mqttAccess.createUser(request.params.dep, request.body)))

  app.get<{ Params: Params }>(`${base}/:username`, {
    schema: { tags, summary: 'Get a device user', params: UserParams, response: { 200: Type.Ref('DeviceUser'), ...errorResponses(404) } },
  }, async (request) => mqttAccess.getUser(request.params.dep, request.params.username))

  app.patch<{ Params: Params; Body: Static<typeof PatchUser> }>(`${base}/:username`, {
    schema: { tags, summary: 'Change a device user\'s password and/or superuser flag (applies to its next CONNECT)', params: UserParams, body: PatchUser, response: { 200: Type.Ref('DeviceUser'), ...errorResponses(400, 404, 409) } },
  }, async (request) => mqttAccess.updateUser(request.params.dep, request.params.username, request.body))

  app.delete<{ Params: Params }>(`${base}/:username`, {
    schema: { tags, summary: 'Delete a device user (its connected clients stay until they reconnect)', params: UserParams, response: { 204: Type.Null(), ...errorResponses(404) } },
  }, async (request, reply) => {
    await mqttAccess.deleteUser(request.params.dep, request.params.username)
    return reply.status(204).send()
  })

  app.get<{ Params: DepParams }>('/api/v1/deployments/:dep/mqtt/login-stats', {
    schema: { tags, summary: 'Device logins since start: successes, failures by username and by client address', params: DeploymentParams, response: { 200: LoginStats, ...errorResponses(404) } },
  }, async (request) => mqttAccess.loginStats(request.params.dep))
}
