import type { Db } from './database.js'

export interface ApiKeyRow { key: string; secretHash: string; role: string; description: string; createdAt: string }
export interface UserRow { username: string; passwordHash: string; role: string }

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

  async setSetting(name: string, value: string): Promise<void> {
    await this.db.deleteFrom('settings').where('name', '=', name).execute()
    await this.db.insertInto('settings').values({ name, value }).execute()
  }
}
