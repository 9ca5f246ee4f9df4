import { isUniqueViolation, type Db } from './database.js'

export interface ApiKeyRow { key: string; secretHash: string; role: string; description: string; createdAt: string }
export interface UserRow { username: string; passwordHash: string; role: string }
export interface UserSummary { username: string; role: string; createdAt: string; updatedAt: string }

/** API keys and console users; only password hashes are stored. */
export class AuthStore {
  constructor(private readonly db: Db) {}

  async getApiKey(key: string): Promise<ApiKeyRow | undefined> {
    const r = await this.db.selectFrom('api_keys').selectAll().where('key', '=', key).executeTakeFirst()
    return r && { key: r.key, secretHash: r.secret_hash, role: r.role, description: r.description, createdAt: r.created_at }
  }

  async upsertApiKey(k: ApiKeyRow): Promise<void> {
    await this.db.deleteFrom('api_keys').where('key', '=', k.key).execute()
    await this.db.insertInto('api_keys').values({
      key: k.key, secret_hash: k.secretHash, role: k.role, description: k.description, created_at: k.createdAt,
    }).execute()
  }

  async listApiKeys(): Promise<ApiKeyRow[]> {
    const rows = await this.db.selectFrom('api_keys').selectAll().orderBy('key').execute()
    return rows.map((r) => ({ key: r.key, secretHash: r.secret_hash, role: r.role, description: r.description, createdAt: r.created_at }))
  }

  async deleteApiKey(key: string): Promise<boolean> {
    const r = await this.db.deleteFrom('api_keys').where('key', '=', key).executeTakeFirst()
    return Number(r.numDeletedRows) > 0
  }

  async listUsers(): Promise<UserSummary[]> {
    const rows = await this.db.selectFrom('users').select(['username', 'role', 'created_at', 'updated_at']).orderBy('username').execute()
    return rows.map((r) => ({ username: r.username, role: r.role, createdAt: r.created_at, updatedAt: r.updated_at }))
  }

  async deleteUser(username: string): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('username', '=', username).executeTakeFirst()
    return Number(r.numDeletedRows) > 0
  }

  /** Users and API keys with this role, together. */
  async countWithRole(role: string): Promise<number> {
    const u = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<string | number>().as('n')).where('role', '=', role).executeTakeFirstOrThrow()
    const k = await this.db.selectFrom('api_keys').select((eb) => eb.fn.countAll<string | number>().as('n')).where('role', '=', role).executeTakeFirstOrThrow()
    return Number(u.n) + Number(k.n)
  }

  async getUser(username: string): Promise<UserRow | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst()
    return r && { username: r.username, passwordHash: r.password_hash, role: r.role }
  }

  async upsertUser(u: UserRow): Promise<void> {
    const now = new Date().toISOString()
    const existing = await this.getUser(u.username)
    if (existing) {
      await this.db.updateTable('users').set({ password_hash: u.passwordHash, role: u.role, updated_at: now }).where('username', '=', u.username).execute()
    } else {
      await this.db.insertInto('users').values({ username: u.username, password_hash: u.passwordHash, role: u.role, created_at: now, updated_at: now }).execute()
    }
  }

  async getSetting(name: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('settings').select('value').where('name', '=', name).executeTakeFirst()
    return r?.value
  }

  /**
   * Stores `value` under `name` unless a value is there already; answers the value that is stored
   * now. Two nodes starting at once agree on the first one written.
   */
  async settingOnce(name: string, value: string): Promise<string> {
    try {
      await this.db.insertInto('settings').values({ name, value }).execute()
      return value
    } catch (err) {
      if (!isUniqueViolation(err)) throw err
      return (await this.getSetting(name))!
    }
  }

  async insertSession(s: { id: string; username: string; expiresAt: string }): Promise<void> {
    const now = new Date().toISOString()
    await this.db.insertInto('sessions').values({ id: s.id, username: s.username, expires_at: s.expiresAt, created_at: now }).execute()
    // Expired sessions are dropped as new ones begin: the table holds about the live ones only.
    await this.db.deleteFrom('sessions').where('expires_at', '<', now).execute()
  }

  /** True while the session exists (not logged out) and has not expired. */
  async sessionActive(id: string, now = new Date()): Promise<boolean> {
    const r = await this.db.selectFrom('sessions').select('expires_at').where('id', '=', id).executeTakeFirst()
    return r !== undefined && r.expires_at > now.toISOString()
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', id).execute()
  }

  async setSetting(name: string, value: string): Promise<void> {
    await this.db.deleteFrom('settings').where('name', '=', name).execute()
    await this.db.insertInto('settings').values({ name, value }).execute()
  }
}
