import { createHash, createHmac, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import type { AuthStore } from '../store/auth-store.js'

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>

export interface Principal {
  readonly kind: 'api_key' | 'user'
  readonly name: string
  readonly role: 'administrator'
}

const SCRYPT = { N: 16384, r: 8, p: 1 }

/** scrypt hash as `scrypt$N$r$p$salt$hash` (base64). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scryptAsync(secret, salt, 32, SCRYPT)
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$')
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$')
  if (alg !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) })
  return timingSafeEqual(actual, expected)
}

/**
 * API keys (`key:secret` over HTTP Basic, as EMQX does) for automation, and the `admin` login with
 * expiring bearer tokens for the console. Only hashes are stored.
 */
export class AuthService {
  /** Verified Basic credentials, so that scrypt (~50 ms) runs once per key, not per request. */
  private readonly verified = new Map<string, { principal: Principal; until: number }>()
  private readonly revoked = new Map<string, number>()
  private readonly tokenKey = randomBytes(32)

  constructor(private readonly store: AuthStore, private readonly sessionTtlMs: number) {}

  /** Creates or updates the key named by JUNCTION_API_KEY/JUNCTION_API_SECRET. */
  async ensureApiKey(key: string, secret: string): Promise<void> {
    const existing = await this.store.getApiKey(key)
    if (existing && (await verifySecret(secret, existing.secretHash))) return
    await this.store.upsertApiKey({ key, secretHash: await hashSecret(secret), role: 'administrator', description: 'from JUNCTION_API_KEY', createdAt: new Date().toISOString() })
  }

  /**
   * Makes sure the `admin` user exists. With JUNCTION_ADMIN_PASSWORD its password is set to that;
   * otherwise a password is generated on first start and returned so the caller prints it once.
   */
  async ensureAdmin(password: string | undefined): Promise<string | undefined> {
    const existing = await this.store.getUser('admin')
    if (password !== undefined) {
      if (!existing || !(await verifySecret(password, existing.passwordHash))) {
        await this.store.upsertUser({ username: 'admin', passwordHash: await hashSecret(password), role: 'administrator' })
      }
      return undefined
    }
    if (existing) return undefined
    const generated = randomBytes(12).toString('base64url')
    await this.store.upsertUser({ username: 'admin', passwordHash: await hashSecret(generated), role: 'administrator' })
    return generated
  }

  /** Checks an Authorization header value; undefined when it grants nothing. */
  async authenticate(header: string | undefined): Promise<Principal | undefined> {
    if (!header) return undefined
    const [scheme, value] = header.split(' ', 2)
    if (!value) return undefined
    if (scheme?.toLowerCase() === 'basic') return this.basic(value)
    if (scheme?.toLowerCase() === 'bearer') return this.bearer(value)
    return undefined
  }

  async login(username: string, password: string): Promise<{ token: string; expiresAt: string } | undefined> {
    const user = await this.store.getUser(username)
    // Hash anyway for an unknown user, so timing does not tell which usernames exist.
    const ok = user ? await verifySecret(password, user.passwordHash) : (await hashSecret(password), false)
    if (!user || !ok) return undefined
    const exp = Date.now() + this.sessionTtlMs
    const payload = Buffer.from(JSON.stringify({ sub: user.username, exp, jti: randomUUID() })).toString('base64url')
    return { token: `${payload}.${this.sign(payload)}`, expiresAt: new Date(exp).toISOString() }
  }

  logout(token: string): void {
    const claims = this.claims(token)
    if (claims) this.revoked.set(claims.jti, claims.exp)
  }

  private async basic(value: string): Promise<Principal | undefined> {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon <= 0) return undefined
    const key = decoded.slice(0, colon)
    const cacheKey = createHash('sha256').update(decoded).digest('base64')
    const hit = this.verified.get(cacheKey)
    if (hit && hit.until > Date.now()) return hit.principal
    const row = await this.store.getApiKey(key)
    if (!row || !(await verifySecret(decoded.slice(colon + 1), row.secretHash))) return undefined
    const principal: Principal = { kind: 'api_key', name: key, role: 'administrator' }
    if (this.verified.size > 1000) this.verified.clear()
    this.verified.set(cacheKey, { principal, until: Date.now() + 60_000 })
    return principal
  }

  private bearer(token: string): Principal | undefined {
    const claims = this.claims(token)
    if (!claims || claims.exp <= Date.now() || this.revoked.has(claims.jti)) return undefined
    return { kind: 'user', name: claims.sub, role: 'administrator' }
  }

  private claims(token: string): { sub: string; exp: number; jti: string } | undefined {
    const [payload, sig] = token.split('.')
    if (!payload || !sig) return undefined
    const expected = Buffer.from(this.sign(payload))
    const given = Buffer.from(sig)
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: string; exp: number; jti: string }
    } catch {
      return undefined
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.tokenKey).update(payload).digest('base64url')
  }
}
