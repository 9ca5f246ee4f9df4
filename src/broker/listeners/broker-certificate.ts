import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { hostname, networkInterfaces } from 'node:os'
import { join } from 'node:path'

/** The server certificate TLS and WSS listeners present, with what a log line says about it. */
export interface BrokerCertificate {
  /** PEM; may hold a chain (server certificate first). */
  readonly cert: string
  /** PEM private key of the first certificate. */
  readonly key: string
  /** SHA-256 fingerprint of the server certificate, as `AB:CD:...` (what openssl and browsers show). */
  readonly fingerprint256: string
  readonly subject: string
  readonly validTo: string
  readonly subjectAltName: string | undefined
  /** Where a generated one lives (absent for a certificate from the settings). */
  readonly files?: { readonly cert: string; readonly key: string }
  /** `generated` now, `reused` from an earlier start, or the user's `configured` one. */
  readonly origin: 'generated' | 'reused' | 'configured'
}

export const SELF_SIGNED_CERT_FILE = 'broker-cert.pem'
export const SELF_SIGNED_KEY_FILE = 'broker-key.pem'
const VALID_DAYS = 3650

/** Raised for a certificate or key from the settings that cannot serve TLS. */
export class CertificateError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CertificateError'
  }
}

/**
 * The user's certificate and key (PEM, from the deployment's settings), checked: both present,
 * parseable, and the key belongs to the first certificate. A bad pair is a CertificateError, so
 * the deployment reports it instead of every TLS handshake failing later.
 */
export function configuredCertificate(cert: string | null, key: string | null): BrokerCertificate {
  if (!cert || !key) throw new CertificateError(`TLS needs both a certificate and its key; ${cert ? 'the key' : 'the certificate'} is missing`)
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch (err) {
    throw new CertificateError(`the TLS certificate is not a PEM X.509 certificate (${(err as Error).message})`)
  }
  let matches: boolean
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key))
  } catch (err) {
    throw new CertificateError(`the TLS key is not a PEM private key (${(err as Error).message})`)
  }
  if (!matches) throw new CertificateError('the TLS key does not belong to the certificate')
  return { cert, key, ...describe(x509), origin: 'configured' }
}

/** One generation at a time per data dir: deployments starting together share it. */
const pending = new Map<string, Promise<BrokerCertificate>>()

/**
 * The data dir's self-signed server certificate: generated on first use (RSA 2048, SHA-256, ten
 * years; SANs for localhost, 127.0.0.1, ::1, this host's name and its current interface
 * addresses) and reused afterwards, so devices that trust it keep trusting it across restarts.
 * The key is written with mode 0600. A pair that cannot be read or does not match is replaced.
 */
export async function selfSignedCertificate(dataDir: string): Promise<BrokerCertificate> {
  const files = { cert: join(dataDir, SELF_SIGNED_CERT_FILE), key: join(dataDir, SELF_SIGNED_KEY_FILE) }
  const running = pending.get(files.cert)
  if (running) return running
  const task = (async () => {
    const existing = readPair(files)
    if (existing) return existing
    mkdirSync(dataDir, { recursive: true })
    const { cert, key } = await generateSelfSigned()
    // Written to temporary names and renamed, key first: a crash never leaves a certificate
    // whose key is missing or half written.
    const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    writeFileSync(files.key + suffix, key, { mode: 0o600 })
    writeFileSync(files.cert + suffix, cert, { mode: 0o644 })
    renameSync(files.key + suffix, files.key)
    renameSync(files.cert + suffix, files.cert)
    return { cert, key, ...describe(new X509Certificate(cert)), files, origin: 'generated' as const }
  })()
  pending.set(files.cert, task)
  try {
    return await task
  } finally {
    pending.delete(files.cert)
  }
}

function readPair(files: { cert: string; key: string }): BrokerCertificate | undefined {
  let cert: string
  let key: string
  try {
    cert = readFileSync(files.cert, 'utf8')
    key = readFileSync(files.key, 'utf8')
  } catch {
    return undefined
  }
  try {
    const x509 = new X509Certificate(cert)
    if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined
    if (Date.parse(x509.validTo) <= Date.now()) return undefined
    return { cert, key, ...describe(x509), files, origin: 'reused' }
  } catch {
    return undefined
  }
}

function describe(x509: X509Certificate): Pick<BrokerCertificate, 'fingerprint256' | 'subject' | 'validTo' | 'subjectAltName'> {
  return { fingerprint256: x509.fingerprint256, subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo, subjectAltName: x509.subjectAltName }
}

/** Names and addresses the certificate is valid for. */
export function certificateNames(): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost'])
  const host = hostname()
  // A DNS SAN must be a plausible host name; odd container names are left out rather than refused.
  if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(host)) dns.add(host.toLowerCase())
  const ips = new Set(['127.0.0.1', '::1'])
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (!a.internal && !a.address.startsWith('fe80:')) ips.add(a.address)
    }
  }
  return { dns: [...dns], ips: [...ips] }
}

/**
 * Key generation and signing are Node's (native, ~0.1-0.3 s for RSA 2048); node-forge only
 * assembles the certificate, and is loaded only then (~70 ms that a start reusing the files does not pay).
 * RSA rather than EC: every TLS stack a device may carry speaks it.
 */
async function generateSelfSigned(): Promise<{ cert: string; key: string }> {
  const { default: forge } = await import('node-forge')
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  })
  const names = certificateNames()
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey)
  // Positive 128-bit serial: the leading byte's high bit clear.
  cert.serialNumber = '01' + randomBytes(15).toString('hex')
  const now = Date.now()
  cert.validity.notBefore = new Date(now - 60_000) // tolerate a device clock a minute behind
  cert.validity.notAfter = new Date(now + VALID_DAYS * 86_400_000)
  const subject = [{ name: 'commonName', value: names.dns.at(-1)! }, { name: 'organizationName', value: 'Junction (self-signed)' }]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    // A self-signed certificate its clients install as their CA: it signs itself, hence keyCertSign.
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...names.dns.map((value) => ({ type: 2, value })), ...names.ips.map((ip) => ({ type: 7, ip }))] },
    { name: 'subjectKeyIdentifier' },
  ])
  // Signed by Node (native, a few ms) over the DER that forge encodes, not by forge's JS RSA.
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!
  // getTBSCertificate is public in forge but missing from its type definitions.
  cert.tbsCertificate = (forge.pki as unknown as { getTBSCertificate(c: typeof cert): typeof cert.tbsCertificate }).getTBSCertificate(cert)
  const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary')
  cert.signature = sign('sha256', tbs, privateKey).toString('binary')
  return { cert: forge.pki.certificateToPem(cert), key: privateKey }
}
