import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto'

/**
 * Secrets of an export encrypted with a passphrase the caller gives: AES-256-GCM, the key derived
 * once per document with scrypt (N=2^15, r=8, p=1) from the passphrase and a random salt kept in
 * the document. Each secret has its own IV; the GCM tag makes a wrong passphrase fail loudly.
 */
export interface EncryptionHeader {
  readonly cipher: 'aes-256-gcm'
  readonly kdf: 'scrypt'
  readonly N: number
  readonly r: number
  readonly p: number
  /** base64 */
  readonly salt: string
}

const N = 2 ** 15
const R = 8
const P = 1

export class SecretEnvelope {
  private constructor(readonly header: EncryptionHeader, private readonly key: Buffer) {}

  static create(passphrase: string): SecretEnvelope {
    const header: EncryptionHeader = { cipher: 'aes-256-gcm', kdf: 'scrypt', N, r: R, p: P, salt: randomBytes(16).toString('base64') }
    return new SecretEnvelope(header, derive(passphrase, header))
  }

  static open(passphrase: string, header: EncryptionHeader): SecretEnvelope {
    return new SecretEnvelope(header, derive(passphrase, header))
  }

  /** `<iv>.<tag>.<ciphertext>`, each base64. */
  seal(clear: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const ct = Buffer.concat([cipher.update(clear, 'utf8'), cipher.final()])
    return `${iv.toString('base64')}.${cipher.getAuthTag().toString('base64')}.${ct.toString('base64')}`
  }

  /** Undefined when the passphrase is wrong or the value was altered. */
  unseal(sealed: string): string | undefined {
    const parts = sealed.split('.')
    if (parts.length !== 3) return undefined
    try {
      const [iv, tag, ct] = parts.map((p) => Buffer.from(p, 'base64')) as [Buffer, Buffer, Buffer]
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv)
      decipher.setAuthTag(tag)
      return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8')
    } catch {
      return undefined
    }
  }
}

function derive(passphrase: string, h: EncryptionHeader): Buffer {
  // Bounded so a document cannot make the server spend unbounded memory or time on the KDF.
  const n = Math.min(Math.max(h.N, 2 ** 14), 2 ** 17)
  return scryptSync(passphrase, Buffer.from(h.salt, 'base64'), 32, { N: n, r: Math.min(h.r, 16), p: Math.min(h.p, 4), maxmem: 256 * 1024 * 1024 })
}
