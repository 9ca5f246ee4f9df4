import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

export interface SelfSignedCertificate {
  readonly certFile: string
  readonly keyFile: string
  readonly certPem: string
  /** Unencrypted PKCS#8. */
  readonly keyPem: string
}

/**
 * A fresh self-signed certificate (its own CA) for `localhost` and `127.0.0.1`, with an EC P-256
 * key, valid for two days: written to `dir` as cert.pem and key.pem, and returned as PEM too.
 */
export async function selfSignedCertificate(dir: string): Promise<SelfSignedCertificate> {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { timeout: 30_000 })
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') }
}
