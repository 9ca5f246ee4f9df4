// Types of broker.mjs, for test/support/kafka.ts.
export declare const KAFKA_VERSION: string
export declare const ROOT: string
export declare const POM: string
export declare const DEFAULT_LIBS_DIR: string
export declare const SASL_USER: string
export declare const SASL_PASSWORD: string

export interface BrokerPorts {
  port: number
  saslPort: number
  controllerPort: number
}

export declare function hasJars(libsDir?: string): boolean
export declare function ensureJars(libsDir?: string, opts?: { log?: (line: string) => void }): boolean
export declare function runningPid(dir: string): number | undefined
export declare function portAnswers(port: number, host?: string, timeoutMs?: number): Promise<boolean>
/** `ssl`: an SSL listener on `port` with this certificate and unencrypted PKCS#8 key (PEM). */
export interface BrokerSsl {
  port: number
  certPem: string
  keyPem: string
}

export declare function startBroker(o: BrokerPorts & { dir: string; ssl?: BrokerSsl; autoCreateTopics?: boolean; libsDir?: string }): number
export declare function checkBroker(o: { port: number; saslPort?: number }): Promise<void>
export declare function waitReady(o: {
  dir: string
  port: number
  saslPort?: number
  pid?: number
  timeoutMs?: number
  onTick?: () => void
}): Promise<void>
export declare function stopBroker(o: { dir: string; kill?: boolean; timeoutMs?: number }): Promise<void>
export declare function killBrokerSync(dir: string): void
export declare function logTail(dir: string, lines?: number): string
