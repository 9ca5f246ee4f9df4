/** Clients and certificates for the listener tests: mqtt.js on any transport, openssl-made CAs. */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import mqtt, { type MqttClient } from 'mqtt'

export const run = promisify(execFile)

export type Transport = 'tcp' | 'tls' | 'ws' | 'wss'
export const TRANSPORTS: readonly Transport[] = ['tcp', 'tls', 'ws', 'wss']

export function urlOf(transport: Transport, host: string, port: number, path = '/mqtt'): string {
  return ({ tcp: `mqtt://${host}:${port}`, tls: `mqtts://${host}:${port}`, ws: `ws://${host}:${port}${path}`, wss: `wss://${host}:${port}${path}` })[transport]
}

/** An MQTT 3.1.1 client that verifies the server's certificate against `ca` (for mqtts and wss). */
export function connectClient(url: string, ca?: string, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...(ca ? { ca, rejectUnauthorized: true } : {}), ...extra })
}

/** Waits for `count` messages on a client; resolves with their topics and payloads. */
export function collect(client: MqttClient, count: number, timeoutMs = 10_000): Promise<Array<[string, string]>> {
  const got: Array<[string, string]> = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${count} messages: ${JSON.stringify(got)}`)), timeoutMs)
    client.on('message', (topic, payload) => {
      got.push([topic, payload.toString()])
      if (got.length === count) {
        clearTimeout(timer)
        resolve(got)
      }
    })
  })
}

/** The SHA-256 fingerprint of the certificate a TLS server presents (no verification). */
export function presentedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256
      socket.end()
      resolve(fp)
    })
    socket.once('error', reject)
  })
}

/** A CA and a server certificate it signed for localhost and 127.0.0.1, made with Debian's openssl. */
export async function makeCaAndServerCertificate(): Promise<{ dir: string; caCert: string; serverCert: string; serverKey: string; otherKey: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'junction-ca-'))
  const f = (name: string) => join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=Junction Test CA'])
  await run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost'])
  await writeFile(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('ext.cnf')])
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', f('other.key')])
  const [caCert, serverCert, serverKey, otherKey] = await Promise.all(['ca.crt', 'server.crt', 'server.key', 'other.key'].map((n) => readFile(f(n), 'utf8')))
  return { dir, caCert: caCert!, serverCert: serverCert!, serverKey: serverKey!, otherKey: otherKey! }
}
