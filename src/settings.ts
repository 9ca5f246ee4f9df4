import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/** Everything Junction can be told at start. Environment variables win over the config file. */
export interface Settings {
  httpHost: string
  httpPort: number
  /** Address the deployments' MQTT listeners bind to. */
  mqttHost: string
  /** The `default` deployment's MQTT port; undefined = 1883, or the next free port when taken. */
  mqttPort: number | undefined
  /** The `default` deployment's allowAnonymous, set at every start; undefined = keep the stored one (false on a fresh install). */
  mqttAllowAnonymous: boolean | undefined
  dataDir: string
  /** postgres://... to keep the config store in PostgreSQL instead of the embedded SQLite file. */
  databaseUrl: string | undefined
  apiKey: string | undefined
  apiSecret: string | undefined
  adminPassword: string | undefined
  /** Passphrase for secrets at rest; else `secret.key` in the data dir. */
  secretKey: string | undefined
  /**
   * This node's name among the nodes sharing one PostgreSQL store (docs/cluster.md), also in an
   * external broker's client ID; default: a name kept in the data dir, first made from the host
   * name and HTTP port.
   */
  nodeName: string | undefined
  /** Console/API login session lifetime. */
  sessionTtlMs: number
  /** Audit entries older than this many days are deleted (at start, then hourly); 0 keeps them forever. */
  auditRetentionDays: number
  /** Versions kept per connector and per rule in the change history; beyond it the oldest go. 0 = no cap. */
  historyMaxVersions: number
  logLevel: string
  /** `text` for people, `json` for log shippers; default: text on a terminal, else json. */
  logFormat: 'text' | 'json' | undefined
}

const ENV: Record<string, keyof Settings> = {
  JUNCTION_HTTP_HOST: 'httpHost',
  JUNCTION_HTTP_PORT: 'httpPort',
  JUNCTION_MQTT_HOST: 'mqttHost',
  JUNCTION_MQTT_PORT: 'mqttPort',
  JUNCTION_MQTT_ALLOW_ANONYMOUS: 'mqttAllowAnonymous',
  JUNCTION_DATA_DIR: 'dataDir',
  JUNCTION_DATABASE_URL: 'databaseUrl',
  JUNCTION_API_KEY: 'apiKey',
  JUNCTION_API_SECRET: 'apiSecret',
  JUNCTION_ADMIN_PASSWORD: 'adminPassword',
  JUNCTION_SECRET_KEY: 'secretKey',
  JUNCTION_NODE_NAME: 'nodeName',
  JUNCTION_SESSION_TTL_MS: 'sessionTtlMs',
  JUNCTION_AUDIT_RETENTION_DAYS: 'auditRetentionDays',
  JUNCTION_HISTORY_MAX_VERSIONS: 'historyMaxVersions',
  JUNCTION_LOG_LEVEL: 'logLevel',
  JUNCTION_LOG_FORMAT: 'logFormat',
}

const NUMERIC = new Set<keyof Settings>(['httpPort', 'mqttPort', 'sessionTtlMs', 'auditRetentionDays', 'historyMaxVersions'])
const BOOLEAN = new Set<keyof Settings>(['mqttAllowAnonymous'])
const TRUE = new Set(['true', '1', 'yes', 'on'])
const FALSE = new Set(['false', '0', 'no', 'off'])

export const DEFAULT_SETTINGS: Settings = {
  httpHost: '0.0.0.0',
  httpPort: 18083,
  mqttHost: '0.0.0.0',
  mqttPort: undefined,
  mqttAllowAnonymous: undefined,
  dataDir: './data',
  databaseUrl: undefined,
  apiKey: undefined,
  apiSecret: undefined,
  adminPassword: undefined,
  secretKey: undefined,
  nodeName: undefined,
  sessionTtlMs: 60 * 60 * 1000,
  auditRetentionDays: 90,
  historyMaxVersions: 100,
  logLevel: 'info',
  logFormat: undefined,
}

/**
 * Reads the config file (JUNCTION_CONFIG_FILE, else ./junction.config.json when present; keys as in
 * Settings) and then the JUNCTION_* variables. Throws with the variable's name on a bad number.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const settings: Settings = { ...DEFAULT_SETTINGS }
  const file = env.JUNCTION_CONFIG_FILE ?? (existsSync('junction.config.json') ? 'junction.config.json' : undefined)
  if (file) {
    const fromFile = JSON.parse(readFileSync(resolve(file), 'utf8')) as Record<string, unknown>
    for (const [k, v] of Object.entries(fromFile)) {
      if (!(k in DEFAULT_SETTINGS)) throw new Error(`${file}: unknown setting "${k}"; known: ${Object.keys(DEFAULT_SETTINGS).join(', ')}`)
      ;(settings as unknown as Record<string, unknown>)[k] = v
    }
  }
  for (const [name, key] of Object.entries(ENV)) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    if (NUMERIC.has(key)) {
      const n = Number(raw)
      if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${raw}"`)
      ;(settings as unknown as Record<string, unknown>)[key] = n
    } else if (BOOLEAN.has(key)) {
      const v = raw.trim().toLowerCase()
      if (!TRUE.has(v) && !FALSE.has(v)) throw new Error(`${name} must be true or false, got "${raw}"`)
      ;(settings as unknown as Record<string, unknown>)[key] = TRUE.has(v)
    } else {
      ;(settings as unknown as Record<string, unknown>)[key] = raw
    }
  }
  if (settings.logFormat !== undefined && settings.logFormat !== 'text' && settings.logFormat !== 'json') {
    throw new Error(`JUNCTION_LOG_FORMAT must be "text" or "json", got "${String(settings.logFormat)}"`)
  }
  if (settings.mqttAllowAnonymous !== undefined && typeof settings.mqttAllowAnonymous !== 'boolean') {
    throw new Error(`mqttAllowAnonymous must be true or false, got ${JSON.stringify(settings.mqttAllowAnonymous)}`)
  }
  if ((settings.apiKey === undefined) !== (settings.apiSecret === undefined)) {
    throw new Error('Set both JUNCTION_API_KEY and JUNCTION_API_SECRET, or neither')
  }
  return settings
}
