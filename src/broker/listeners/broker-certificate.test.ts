import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CertificateError, configuredCertificate, SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE, selfSignedCertificate } from './broker-certificate.js'

const tempDir = () => mkdtempSync(join(tmpdir(), 'junction-cert-'))

describe('selfSignedCertificate', () => {
  it('is generated once per data dir (key mode 0600) and reused with the same fingerprint', async () => {
    const dir = tempDir()
    const first = await selfSignedCertificate(dir)
    assert.equal(first.origin, 'generated')
    assert.equal(statSync(join(dir, SELF_SIGNED_KEY_FILE)).mode & 0o777, 0o600)
    assert.equal(readFileSync(join(dir, SELF_SIGNED_CERT_FILE), 'utf8'), first.cert)
    const again = await selfSignedCertificate(dir)
    assert.equal(again.origin, 'reused')
    assert.equal(again.fingerprint256, first.fingerprint256)
    assert.equal(again.key, first.key)
    assert.match(first.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  })

  it('deployments asking at the same time share one generation', async () => {
    const dir = tempDir()
    const [a, b] = await Promise.all([selfSignedCertificate(dir), selfSignedCertificate(dir)])
    assert.equal(a!.fingerprint256, b!.fingerprint256)
  })

  it('is valid for localhost, 127.0.0.1 and ::1, for serving, for ten years', async () => {
    const c = await selfSignedCertificate(tempDir())
    const x509 = new X509Certificate(c.cert)
    assert.equal(x509.checkHost('localhost'), 'localhost')
    assert.equal(x509.checkIP('127.0.0.1'), '127.0.0.1')
    assert.ok(x509.checkIP('::1'))
    assert.equal(x509.checkIssued(x509), true, 'self-signed')
    assert.equal(x509.verify(x509.publicKey), true)
    assert.ok(Date.parse(x509.validTo) > Date.now() + 9 * 365 * 86_400_000)
  })

  it('a key that does not match its certificate is replaced by a new pair', async () => {
    const dir = tempDir()
    const first = await selfSignedCertificate(dir)
    const other = await selfSignedCertificate(tempDir())
    writeFileSync(join(dir, SELF_SIGNED_KEY_FILE), other.key)
    const replaced = await selfSignedCertificate(dir)
    assert.equal(replaced.origin, 'generated')
    assert.notEqual(replaced.fingerprint256, first.fingerprint256)
    assert.ok(new X509Certificate(replaced.cert).checkPrivateKey((await import('node:crypto')).createPrivateKey(replaced.key)))
  })
})

describe('configuredCertificate', () => {
  it('accepts a matching pair and describes it', async () => {
    const own = await selfSignedCertificate(tempDir())
    const c = configuredCertificate(own.cert, own.key)
    assert.equal(c.origin, 'configured')
    assert.equal(c.fingerprint256, own.fingerprint256)
    assert.equal(c.files, undefined)
  })

  it('refuses a missing half, a key of another certificate, and text that is not PEM', async () => {
    const a = await selfSignedCertificate(tempDir())
    const b = await selfSignedCertificate(tempDir())
    assert.throws(() => configuredCertificate(a.cert, null), (e: unknown) => e instanceof CertificateError && /key is missing/.test(e.message))
    assert.throws(() => configuredCertificate(null, a.key), /certificate is missing/)
    assert.throws(() => configuredCertificate(a.cert, b.key), /does not belong to the certificate/)
    assert.throws(() => configuredCertificate('not a certificate', a.key), /not a PEM X.509 certificate/)
    assert.throws(() => configuredCertificate(a.cert, 'not a key'), /not a PEM private key/)
  })
})
