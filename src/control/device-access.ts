import type { AuthnResult, ClientPermissions, DeviceAccess } from '../broker/broker-types.js'
import { ClientAcl, DEFAULT_MQTT_ACL, type AclClient, type MqttAcl } from '../core/mqtt-acl.js'
import { LoginGuard, type LoginStats } from './login-guard.js'
import { verifyAgainstNobody, verifyDevicePassword } from './device-password.js'

/** What authentication needs of a stored device user: never cached, read per CONNECT. */
export interface StoredDeviceUser {
  readonly passwordHash: string
  readonly superuser: boolean
}

export interface DeviceAccessSource {
  /** The device user of this deployment, read from the store. */
  findUser(username: string): Promise<StoredDeviceUser | undefined>
  /** The deployment's current `allowAnonymous` (a settings change applies to the next CONNECT). */
  allowAnonymous(): boolean
  /** Logs a store failure (authentication then refuses, it never lets a client in by mistake). */
  onError?(err: unknown): void
}

/** Topics (and filters) whose answers one connection keeps; the cache starts over when full. */
export const PERMISSION_CACHE_SIZE = 512

const ALLOW_ALL: ClientPermissions = { canPublish: () => true, canSubscribe: () => true }
const NO_PASSWORD = Buffer.alloc(0)

/**
 * A deployment's device authentication (its device users, anonymous clients per `allowAnonymous`)
 * and authorization (its ACL), as the broker asks for them.
 *
 * - A client without a username (or with an empty one) is anonymous: let in only when the
 *   deployment allows anonymous clients.
 * - A username that is a device user must come with its password, always.
 * - A username that is not a device user is let in as anonymous when anonymous clients are
 *   allowed (EMQX 4's allow_anonymous: no credential source knows it), refused otherwise.
 * - Superusers may publish and subscribe to anything; everyone else gets the ACL compiled for
 *   them (first matching rule wins, else the default). A new ACL applies to connected clients at
 *   their next publish or subscribe.
 */
export class DeploymentDeviceAccess implements DeviceAccess {
  readonly guard: LoginGuard
  private currentAclDocument: MqttAcl = DEFAULT_MQTT_ACL
  private version = 0

  constructor(private readonly source: DeviceAccessSource, guard = new LoginGuard(), private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))) {
    this.guard = guard
  }

  /** Replaces the ACL; permissions handed out earlier see it at their next check. */
  setAcl(acl: MqttAcl): void {
    this.currentAclDocument = acl
    this.version++
  }

  /** The ACL in force. */
  get acl(): MqttAcl {
    return this.currentAclDocument
  }

  /** Increases with every setAcl: connections compare it with the version they compiled. */
  get aclVersion(): number {
    return this.version
  }

  stats(): LoginStats {
    return this.guard.stats()
  }

  async authenticate(request: { readonly clientid: string; readonly username: string | undefined; readonly password: Buffer | undefined; readonly peerhost: string | undefined }): Promise<AuthnResult> {
    const { username, peerhost } = request
    if (username === undefined || username === '') {
      if (this.source.allowAnonymous()) return { ok: true, anonymous: true, superuser: false }
      this.guard.recordAnonymousRefused()
      return { ok: false, reason: 'not_authorized' }
    }
    const wait = this.guard.delayFor(username, peerhost)
    if (wait > 0) await this.sleep(wait)
    let user: StoredDeviceUser | undefined
    try {
      user = await this.source.findUser(username)
    } catch (err) {
      this.source.onError?.(err)
      return { ok: false, reason: 'not_authorized' }
    }
    const password = request.password ?? NO_PASSWORD
    if (!user) {
      if (this.source.allowAnonymous()) return { ok: true, anonymous: true, superuser: false }
      await verifyAgainstNobody(password)
      this.guard.recordFailure(username, peerhost)
      return { ok: false, reason: 'bad_username_or_password' }
    }
    if (request.password === undefined || !(await verifyDevicePassword(password, user.passwordHash))) {
      this.guard.recordFailure(username, peerhost)
      return { ok: false, reason: 'bad_username_or_password' }
    }
    this.guard.recordSuccess(username)
    return { ok: true, anonymous: false, superuser: user.superuser }
  }

  permissions(client: { readonly clientid: string; readonly username: string | undefined; readonly superuser: boolean }): ClientPermissions {
    if (client.superuser) return ALLOW_ALL
    return new CachedPermissions(this, { clientid: client.clientid, username: client.username })
  }
}

/**
 * One connection's permissions: the ACL compiled for it once per ACL version, answers kept per
 * topic. Asked per PUBLISH, so a cached answer costs one number comparison and one map lookup.
 */
class CachedPermissions implements ClientPermissions {
  private version = -1
  private compiled: ClientAcl | undefined
  private readonly publish = new Map<string, boolean>()
  private readonly subscribe = new Map<string, boolean>()

  constructor(private readonly access: DeploymentDeviceAccess, private readonly client: AclClient) {}

  canPublish(topic: string): boolean {
    const acl = this.current()
    let answer = this.publish.get(topic)
    if (answer === undefined) {
      answer = acl.canPublish(topic)
      remember(this.publish, topic, answer)
    }
    return answer
  }

  canSubscribe(filter: string): boolean {
    const acl = this.current()
    let answer = this.subscribe.get(filter)
    if (answer === undefined) {
      answer = acl.canSubscribe(filter)
      remember(this.subscribe, filter, answer)
    }
    return answer
  }

  private current(): ClientAcl {
    if (this.access.aclVersion !== this.version || !this.compiled) {
      this.compiled = new ClientAcl(this.access.acl, this.client)
      this.version = this.access.aclVersion
      this.publish.clear()
      this.subscribe.clear()
    }
    return this.compiled
  }
}

function remember(cache: Map<string, boolean>, key: string, answer: boolean): void {
  if (cache.size >= PERMISSION_CACHE_SIZE) cache.clear()
  cache.set(key, answer)
}
