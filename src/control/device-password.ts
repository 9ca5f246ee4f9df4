import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * Device (MQTT client) passwords at rest: scrypt with a per-user salt, stored as
 * `scrypt$N$r$p$salt$hash` (base64) so the cost can be raised later without breaking old hashes.
 * N=16384 costs ~50 ms of one libuv thread per check on the 2-core reference machine.
 */
export const DEVICE_SCRYPT = { N: 16384, r: 8, p: 1 } as const
const KEY_LENGTH = 32
/** Stored parameters are read back from the database; refuse any that would take too much memory. */
const MAX_MEMORY = 64 * 1024 * 1024

/** At most this many checks run at once, so a connection storm leaves libuv threads for file I/O. */
const MAX_CONCURRENT = 2
let running = 0
const waiting: Array<() => void> = []

async function withSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve))
  running++
  try {
    return await work()
  } finally {
    running--
    waiting.shift()?.()
  }
}

function derive(password: Buffer, salt: Buffer, keylen: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return withSlot(() => new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, { ...params, maxmem: MAX_MEMORY }, (err, key) => (err ? reject(err) : resolve(key)))
  }))
}

const asBuffer = (password: string | Buffer) => (typeof password === 'string' ? Buffer.from(password, 'utf8') : password)

export async function hashDevicePassword(password: string | Buffer): Promise<string> {
  const salt = randomBytes(16)
  const hash = await derive(asBuffer(password), salt, KEY_LENGTH, DEVICE_SCRYPT)
  return ['scrypt', DEVICE_SCRYPT.N, DEVICE_SCRYPT.r, DEVICE_SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$')
}

/** False for a wrong password and for a stored value that is not a hash this code wrote. */
export async function verifyDevicePassword(password: string | Buffer, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash, ...rest] = stored.split('$')
  if (alg !== 'scrypt' || !salt || !hash || rest.length > 0) return false
  const params = { N: Number(n), r: Number(r), p: Number(p) }
  if (![params.N, params.r, params.p].every((v) => Number.isInteger(v) && v > 0)) return false
  const expected = Buffer.from(hash, 'base64')
  if (expected.length < 16) return false
  try {
    const actual = await derive(asBuffer(password), Buffer.from(salt, 'base64'), expected.length, params)
    return timingSafeEqual(actual, expected)
  } catch {
    return false // parameters scrypt refuses (e.g. N not a power of two, too much memory)
  }
}

let dummyHash: Promise<string> | undefined

/**
 * Checks a password against a hash nobody's password matches: an unknown username costs as much
 * time as a known one, so answers do not tell which usernames exist.
 */
export async function verifyAgainstNobody(password: string | Buffer): Promise<false> {
  dummyHash ??= hashDevicePassword(randomBytes(16))
  await verifyDevicePassword(password, await dummyHash)
  return false
}
