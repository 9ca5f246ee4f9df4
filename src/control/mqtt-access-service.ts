import { ApiError, validationError } from '../core/errors.js'
import { aclProblems, type MqttAcl } from '../core/mqtt-acl.js'
import { isUniqueViolation } from '../store/database.js'
import type { Store } from '../store/store.js'
import { refuseDeviceSettings } from './broker-settings.js'
import type { DeploymentService } from './deployment-service.js'
import { hashDevicePassword } from './device-password.js'
import type { LoginStats } from './login-guard.js'

/** A device user as the API shows it: never the password nor its hash. */
export interface DeviceUserView {
  readonly username: string
  readonly superuser: boolean
  readonly createdAt: string
  readonly updatedAt: string
}

export interface AclView extends MqttAcl {
  /** When the ACL was last saved; null while it is the built-in default. */
  readonly updatedAt: string | null
}

/** A deployment's device users and ACL: validate, persist, and hand the ACL to its DeviceAccess. */
export class MqttAccessService {
  constructor(private readonly store: Store, private readonly deployments: DeploymentService) {}

  async listUsers(dep: string): Promise<DeviceUserView[]> {
    await this.deployments.record(dep)
    return (await this.store.mqttAccess.listUsers(dep)).map(view)
  }

  async getUser(dep: string, username: string): Promise<DeviceUserView> {
    await this.deployments.record(dep)
    const u = await this.store.mqttAccess.getUser(dep, username)
    if (!u) throw userNotFound(dep, username)
    return view(u)
  }

  async createUser(dep: string, input: { username: string; password: string; superuser?: boolean }): Promise<DeviceUserView> {
    refuseDeviceSettings(await this.deployments.record(dep), 'Device users')
    const now = new Date().toISOString()
    const row = { deploymentId: dep, username: input.username, passwordHash: await hashDevicePassword(input.password), superuser: input.superuser ?? false, createdAt: now, updatedAt: now }
    try {
      await this.store.mqttAccess.insertUser(row)
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new ApiError('USERNAME_TAKEN', `Deployment "${dep}" already has a device user "${input.username}"`, { hint: 'Choose another username, or change its password with PATCH .../mqtt/users/{username}.' })
      }
      throw err
    }
    return view(row)
  }

  async updateUser(dep: string, username: string, patch: { password?: string; superuser?: boolean }): Promise<DeviceUserView> {
    refuseDeviceSettings(await this.deployments.record(dep), 'Device users')
    const u = await this.store.mqttAccess.getUser(dep, username)
    if (!u) throw userNotFound(dep, username)
    const next = {
      ...u,
      ...(patch.password === undefined ? {} : { passwordHash: await hashDevicePassword(patch.password) }),
      ...(patch.superuser === undefined ? {} : { superuser: patch.superuser }),
      updatedAt: new Date().toISOString(),
    }
    if (!(await this.store.mqttAccess.updateUser(next))) throw userNotFound(dep, username)
    return view(next)
  }

  /** Connected clients of the user stay connected (as with EMQX); their next CONNECT is refused. */
  async deleteUser(dep: string, username: string): Promise<void> {
    await this.deployments.record(dep)
    if (!(await this.store.mqttAccess.deleteUser(dep, username))) throw userNotFound(dep, username)
  }

  async getAcl(dep: string): Promise<AclView> {
    await this.deployments.record(dep)
    const { acl, updatedAt } = await this.store.mqttAccess.getAcl(dep)
    return { rules: acl.rules, default: acl.default, updatedAt }
  }

  /** Replaces the ACL; connected clients are checked against it from their next publish or subscribe. */
  /**
   * `restoring`: an import puts back what an export held, also on a deployment attached to an
   * external broker (kept for when it is embedded again), where the API refuses it.
   */
  async putAcl(dep: string, acl: MqttAcl, options: { restoring?: boolean } = {}): Promise<AclView> {
    const d = await this.deployments.record(dep)
    if (!options.restoring) refuseDeviceSettings(d, 'The device ACL')
    const errors = aclProblems(acl)
    if (errors.length > 0) throw validationError(errors)
    const clean: MqttAcl = { rules: acl.rules.map((r) => ({ who: r.who, action: r.action, topic: r.topic, permission: r.permission })), default: acl.default }
    const updatedAt = new Date().toISOString()
    await this.store.mqttAccess.putAcl(dep, clean, updatedAt)
    this.deployments.access(dep).setAcl(clean)
    return { ...clean, updatedAt }
  }

  /** Logins since start: successes, failures (by username and by host) and refused anonymous clients. */
  async loginStats(dep: string): Promise<LoginStats> {
    await this.deployments.record(dep)
    return this.deployments.access(dep).stats()
  }
}

const view = (u: { username: string; superuser: boolean; createdAt: string; updatedAt: string }): DeviceUserView =>
  ({ username: u.username, superuser: u.superuser, createdAt: u.createdAt, updatedAt: u.updatedAt })

function userNotFound(dep: string, username: string): ApiError {
  return new ApiError('DEVICE_USER_NOT_FOUND', `Deployment "${dep}" has no device user "${username}"`, { hint: 'List them with GET /api/v1/deployments/{dep}/mqtt/users.' })
}
