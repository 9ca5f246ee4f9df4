import { createHash, createHmac, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import type { AuthStore } from '../store/auth-store.js'
import { LoginGuard, type LoginGuardOptions } from './login-guard.js'
import { toRole, type Role } from './roles.js'

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>

export interface Principal {
  readonly kind: 'api_key' | 'user'
  readonly name: string
  readonly role: Role
}

/** What one authentication attempt gave: a principal, nothing, or a refusal to check for a while. */
export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly retryAfterMs?: number }

export interface AuthThrottleOptions extends LoginGuardOptions {
  /** Failures of one key, user or source address in a streak before attempts are refused (429). */
  readonly freeFailures: number
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleOptions = { freeFailures: 5, baseDelayMs: 1000, maxDelayMs: 60_000, windowMs: 15 * 60_000, maxTracked: 10_000 }

export interface AuthOptions {
  readonly throttle?: AuthThrottleOptions
  /** Where failed and refused attempts are reported (names and addresses only, never secrets). */
  readonly log?: { warn(obj: object, msg: string): void }
  /**
   * Signs session tokens. Every node of an installation uses the one kept in the store, so a
   * token from one node works on all; without it, a key of this process only.
   */
  readonly tokenKey?: Buffer
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
 * A hash of a secret nobody knows: checking a secret of an unknown key or user against it costs
 * what checking a known one costs, so the answer's timing does not tell which names exist.
 */
let dummyHash: Promise<string> | undefined
function dummySecretHash(): Promise<string> {
  dummyHash ??= hashSecret(randomBytes(24).toString('base64'))
  return dummyHash
}

/** Names as logged: bounded, so a megabyte of "username" does not reach the log. */
const logName = (name: string) => (name.length > 128 ? `${name.slice(0, 128)}...` : name)

/**
 * API keys (`key:secret` over HTTP Basic, as EMQX does) for automation, and the `admin` login with
 * expiring bearer tokens for the console. Only hashes are stored.
 */
export class AuthService {
  /** Verified Basic credentials, so that scrypt (~50 ms) runs once per key, not per request. */
  private readonly verified = new Map<string, { principal: Principal; until: number }>()
  private readonly tokenKey: Buffer
  private readonly guard: LoginGuard
  private readonly freeFailures: number

  constructor(private readonly store: AuthStore, private readonly sessionTtlMs: number, private readonly options: AuthOptions = {}) {
    const throttle = options.throttle ?? DEFAULT_AUTH_THROTTLE
    this.tokenKey = options.tokenKey ?? randomBytes(32)
    this.guard = new LoginGuard(throttle)
    this.freeFailures = throttle.freeFailures
  }

  /** Forgets verified Basic credentials: after a key's secret, role or existence changed. */
  forgetVerified(): void {
    this.verified.clear()
  }

  /** Creates or updates the key named by JUNCTION_API_KEY/JUNCTION_API_SECRET. */
  async ensureApiKey(key: string, secret: string): Promise<void> {
    const existing = await this.store.getApiKey(key)
    if (existing && (await verifySecret(secret, existing.secretHash))) return
    await this.store.upsertApiKey({ key, secretHash: await hashSecret(secret), role: 'admin', description: 'from JUNCTION_API_KEY', createdAt: new Date().toISOString() })
  }

  /**
   * Makes sure the `admin` user exists. With JUNCTION_ADMIN_PASSWORD its password is set to that;
   * otherwise a password is generated on first start and returned so the caller prints it once.
   */
  async ensureAdmin(password: string | undefined): Promise<string | undefined> {
    const existing = await this.store.getUser('admin')
    if (password !== undefined) {
      if (!existing || !(await verifySecret(password, existing.passwordHash))) {
        await this.store.upsertUser({ username: 'admin', passwordHash: await hashSecret(password), role: 'admin' })
      }
      return undefined
    }
    if (existing) return undefined
    const generated = randomBytes(12).toString('base64url')
    await this.store.upsertUser({ username: 'admin', passwordHash: await hashSecret(generated), role: 'admin' })
    return generated
  }

  /** Checks an Authorization header value; undefined when it grants nothing. */
  async authenticate(header: string | undefined, source?: string): Promise<Principal | undefined> {
    const r = await this.check(header, source)
    return r.ok ? r.principal : undefined
  }

  /**
   * Checks an Authorization header from `source` (the client's address). After `freeFailures`
   * failures in a row of one key or one source, further attempts are refused unchecked for a
   * doubling while (`retryAfterMs`), so guessing costs the guesser time and Junction no hashing.
   */
  async check(header: string | undefined, source: string | undefined): Promise<AuthResult> {
    if (!header) return { ok: false }
    const [scheme, value] = header.split(' ', 2)
    if (!value) return { ok: false }
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon <= 0) return { ok: false }
      const key = decoded.slice(0, colon)
      const cacheKey = createHash('sha256').update(decoded).digest('base64')
      // Credentials verified a moment ago pass even a throttled source or key: a guesser cannot
      // lock out the automation that already holds the secret.
      const hit = this.verified.get(cacheKey)
      if (hit && hit.until > Date.now()) return { ok: true, principal: hit.principal }
      return this.guarded('api_key', key, source, () => this.basic(decoded, key, cacheKey))
    }
    if (scheme?.toLowerCase() === 'bearer') {
      const claims = this.claims(value)
      // A token Junction signed is no guess (an expired one is a console left open): it neither
      // counts as a failure nor waits for a throttled address. Forged ones are guesses.
      if (claims) {
        const principal = await this.bearer(claims)
        return principal ? { ok: true, principal } : { ok: false }
      }
      return this.guarded('token', undefined, source, async () => undefined)
    }
    return { ok: false }
  }

  private async guarded(kind: 'api_key' | 'user' | 'token', name: string | undefined, source: string | undefined, attempt: () => Promise<Principal | undefined>): Promise<AuthResult> {
    const id = name === undefined ? undefined : `${kind}:${name}`
    const wait = this.guard.retryAfterMs(id, source, this.freeFailures)
    if (wait > 0) {
      this.options.log?.warn({ kind, name: name === undefined ? undefined : logName(name), source, retryAfterMs: wait }, 'authentication refused: too many failures')
      return { ok: false, retryAfterMs: wait }
    }
    const principal = await attempt()
    if (principal) {
      this.guard.recordSuccess(id)
      return { ok: true, principal }
    }
    this.guard.recordFailure(id, source)
    this.options.log?.warn({ kind, name: name === undefined ? undefined : logName(name), source }, 'authentication failed')
    return { ok: false }
  }

  /** Failed attempts so far, by name and source (for operators; no secrets). */
  failureStats(): ReturnType<LoginGuard['stats']> {
    return this.guard.stats()
  }

  async login(username: string, password: string, source?: string): Promise<{ token: string; expiresAt: string; role: Role } | { retryAfterMs: number } | undefined> {
    let role: Role = 'viewer'
    const r = await this.guarded('user', username, source, async () => {
      const user = await this.store.getUser(username)
      // Hash anyway for an unknown user, so timing does not tell which usernames exist.
      const ok = await verifySecret(password, user?.passwordHash ?? (await dummySecretHash()))
      if (!user || !ok) return undefined
      role = toRole(user.role)
      return { kind: 'user', name: user.username, role }
    })
    if (!r.ok) return r.retryAfterMs === undefined ? undefined : { retryAfterMs: r.retryAfterMs }
    const user = r.principal
    const exp = Date.now() + this.sessionTtlMs
    const jti = randomUUID()
    // In the store, not in memory: every node sees the session, and its end at logout.
    await this.store.insertSession({ id: jti, username: user.name, expiresAt: new Date(exp).toISOString() })
    const payload = Buffer.from(JSON.stringify({ sub: user.name, exp, jti })).toString('base64url')
    return { token: `${payload}.${this.sign(payload)}`, expiresAt: new Date(exp).toISOString(), role }
  }

  async logout(token: string): Promise<void> {
    const claims = this.claims(token)
    if (claims) await this.store.deleteSession(claims.jti)
  }

  private async basic(decoded: string, key: string, cacheKey: string): Promise<Principal | undefined> {
    const row = await this.store.getApiKey(key)
    // An unknown key costs the same scrypt as a known one: its timing must not tell them apart.
    const ok = await verifySecret(decoded.slice(key.length + 1), row?.secretHash ?? (await dummySecretHash()))
    if (!row || !ok) return undefined
    const principal: Principal = { kind: 'api_key', name: key, role: toRole(row.role) }
    if (this.verified.size > 1000) this.verified.clear()
    this.verified.set(cacheKey, { principal, until: Date.now() + 60_000 })
    return principal
  }

  private async bearer(claims: { sub: string; exp: number; jti: string }): Promise<Principal | undefined> {
    if (claims.exp <= Date.now() || !(await this.store.sessionActive(claims.jti))) return undefined
    // Read per request, so a deleted user or a changed role takes effect at once.
    const user = await this.store.getUser(claims.sub)
    if (!user) return undefined
    return { kind: 'user', name: claims.sub, role: toRole(user.role) }
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
