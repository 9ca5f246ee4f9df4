import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const PREFIX = 'enc:v1:'

/**
 * Encrypts secret config values at rest with AES-256-GCM. The key comes from JUNCTION_SECRET_KEY
 * (any string, stretched with HKDF) or from `secret.key` in the data dir, generated on first start
 * with mode 0600. Losing that file makes stored secrets unreadable: back it up with the data.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromPassphrase(passphrase: string): SecretBox {
    return new SecretBox(Buffer.from(hkdfSync('sha256', passphrase, 'junction', 'secrets-v1', 32)))
  }

  /** Reads `<dataDir>/secret.key`, creating it (owner-readable only) when absent. */
  static fromDataDir(dataDir: string): SecretBox {
    const file = join(dataDir, 'secret.key')
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true })
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
    }
    chmodSync(file, 0o600)
    return SecretBox.fromPassphrase(readFileSync(file, 'utf8').trim())
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')
  }

  /** Throws when the value was encrypted with another key (JUNCTION_SECRET_KEY changed). */
  decrypt(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64')
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  }
}
