import { randomBytes } from 'node:crypto'
import { ApiError } from '../core/errors.js'
import type { AuthStore } from '../store/auth-store.js'
import { hashSecret, type AuthService } from './auth-service.js'
import { toRole, type Role } from './roles.js'

export interface UserView { username: string; role: Role; createdAt: string; updatedAt: string }
export interface ApiKeyView { key: string; role: Role; description: string; createdAt: string }

/**
 * Console users and API keys, managed by admins. Only hashes are stored; an API key's secret is
 * answered once, when the key is made. No change may leave the installation without an admin.
 */
export class AccountService {
  constructor(private readonly store: AuthStore, private readonly auth: AuthService) {}

  async listUsers(): Promise<UserView[]> {
    return (await this.store.listUsers()).map((u) => ({ ...u, role: toRole(u.role) }))
  }

  async getUser(username: string): Promise<UserView> {
    const u = (await this.store.listUsers()).find((x) => x.username === username)
    if (!u) throw new ApiError('USER_NOT_FOUND', `No console user ${username}`)
    return { ...u, role: toRole(u.role) }
  }

  async createUser(input: { username: string; password: string; role: Role }): Promise<UserView> {
    if (await this.store.getUser(input.username)) throw new ApiError('USER_EXISTS', `The console user ${input.username} exists`, { hint: 'Change it with PATCH /api/v1/users/{username}.' })
    await this.store.upsertUser({ username: input.username, passwordHash: await hashSecret(input.password), role: input.role })
    return this.getUser(input.username)
  }

  async updateUser(username: string, patch: { password?: string; role?: Role }): Promise<UserView> {
    const existing = await this.store.getUser(username)
    if (!existing) throw new ApiError('USER_NOT_FOUND', `No console user ${username}`)
    if (patch.role !== undefined && patch.role !== 'admin') await this.keepAnAdmin(existing.role)
    await this.store.upsertUser({
      username,
      passwordHash: patch.password === undefined ? existing.passwordHash : await hashSecret(patch.password),
      role: patch.role ?? toRole(existing.role),
    })
    return this.getUser(username)
  }

  async deleteUser(username: string): Promise<void> {
    const existing = await this.store.getUser(username)
    if (!existing) throw new ApiError('USER_NOT_FOUND', `No console user ${username}`)
    await this.keepAnAdmin(existing.role)
    await this.store.deleteUser(username)
  }

  async listApiKeys(): Promise<ApiKeyView[]> {
    return (await this.store.listApiKeys()).map((k) => ({ key: k.key, role: toRole(k.role), description: k.description, createdAt: k.createdAt }))
  }

  async getApiKey(key: string): Promise<ApiKeyView> {
    const k = await this.store.getApiKey(key)
    if (!k) throw new ApiError('API_KEY_NOT_FOUND', `No API key ${key}`)
    return { key: k.key, role: toRole(k.role), description: k.description, createdAt: k.createdAt }
  }

  /** Makes a key with a generated secret, answered here and never again. */
  async createApiKey(input: { key?: string; role: Role; description?: string }): Promise<ApiKeyView & { secret: string }> {
    const key = input.key ?? `jk-${randomBytes(8).toString('hex')}`
    if (await this.store.getApiKey(key)) throw new ApiError('USER_EXISTS', `The API key ${key} exists`, { hint: 'Pick another name, or delete the old key first.' })
    const secret = randomBytes(24).toString('base64url')
    await this.store.upsertApiKey({ key, secretHash: await hashSecret(secret), role: input.role, description: input.description ?? '', createdAt: new Date().toISOString() })
    return { ...(await this.getApiKey(key)), secret }
  }

  async updateApiKey(key: string, patch: { role?: Role; description?: string }): Promise<ApiKeyView> {
    const existing = await this.store.getApiKey(key)
    if (!existing) throw new ApiError('API_KEY_NOT_FOUND', `No API key ${key}`)
    if (patch.role !== undefined && patch.role !== 'admin') await this.keepAnAdmin(existing.role)
    await this.store.upsertApiKey({ ...existing, role: patch.role ?? toRole(existing.role), description: patch.description ?? existing.description })
    this.auth.forgetVerified()
    return this.getApiKey(key)
  }

  async deleteApiKey(key: string): Promise<void> {
    const existing = await this.store.getApiKey(key)
    if (!existing) throw new ApiError('API_KEY_NOT_FOUND', `No API key ${key}`)
    await this.keepAnAdmin(existing.role)
    await this.store.deleteApiKey(key)
    this.auth.forgetVerified()
  }

  /** Refuses to remove or demote the last admin (user or key), which would lock everyone out of these routes. */
  private async keepAnAdmin(roleOfTheOneChanged: string): Promise<void> {
    if (toRole(roleOfTheOneChanged) !== 'admin') return
    if ((await this.store.countWithRole('admin')) <= 1) {
      throw new ApiError('LAST_ADMIN', 'This is the last admin', { hint: 'Give another user or API key the admin role first.' })
    }
  }
}
