/** Domain types shared by store, runtime and API. No I/O here. */

export const PLANS = ['serverless', 'dedicated', 'premium'] as const
export type Plan = (typeof PLANS)[number]

/** Plans on which an existing connector may be edited (the product's rule). */
export const EDITABLE_PLANS: ReadonlySet<Plan> = new Set(['dedicated', 'premium'])

export type DeploymentStatus = 'running' | 'stopped' | 'error'
export type ConnectorStatus = 'connecting' | 'connected' | 'disconnected' | 'stopped'

export interface DeploymentRecord {
  readonly id: string
  readonly name: string
  readonly plan: Plan
  /** What the user asked for; survives restarts. */
  readonly desiredState: 'running' | 'stopped'
  /** Set by the user (or JUNCTION_MQTT_PORT for `default`); null means "pick a free one from 1883". */
  readonly mqttPort: number | null
  /** The broker's settings (`mqtt` in the API): who may connect, limits, listeners. Every field filled in. */
  readonly mqttSettings: MqttSettings
  /** Whose broker the deployment uses: its own (`embedded`) or an existing one it attaches to as a client. */
  readonly broker: BrokerSettings
  readonly createdAt: string
  readonly updatedAt: string
}

/** The limits a deployment's broker enforces (all per deployment unless said otherwise). */
export interface BrokerLimits {
  /** Clients without a username may connect (no credentials checked). */
  readonly allowAnonymous: boolean
  /** Largest packet accepted and sent, in bytes (EMQX: 1 MB). */
  readonly maxPacketSize: number
  /** Concurrent connections; null = no limit. */
  readonly maxConnections: number | null
  /** MQTT 5 Server Keep Alive (s) imposed on clients that ask for more (or for none); null = off. */
  readonly serverKeepAlive: number | null
  /** QoS 1/2 messages written to one client and not yet acknowledged (EMQX max_inflight 32). */
  readonly maxInflight: number
  /** Messages queued for one session beyond its inflight window (EMQX max_mqueue_len 1000). */
  readonly maxQueuedMessages: number
  /** Upper bound of a session's expiry interval (s) (EMQX: 2 h). */
  readonly maxSessionExpiry: number
  /** Messages per second one client may publish; null = no limit. */
  readonly maxMessageRate: number | null
  /** New connections per second the deployment accepts; null = no limit. */
  readonly maxConnectionRate: number | null
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  allowAnonymous: false,
  maxPacketSize: 1024 * 1024,
  maxConnections: null,
  serverKeepAlive: null,
  maxInflight: 32,
  maxQueuedMessages: 1000,
  maxSessionExpiry: 7200,
  maxMessageRate: null,
  maxConnectionRate: null,
}

/** One extra listener of a deployment's broker (the plain TCP one is `mqttPort`). */
export interface ListenerSettings {
  readonly enabled: boolean
  /** null = the transport's default (8883 TLS, 8083 WS, 8084 WSS), the next free one when taken. */
  readonly port: number | null
}

export interface MqttSettings extends BrokerLimits {
  readonly listeners: {
    readonly tls: ListenerSettings
    readonly ws: ListenerSettings & { readonly path: string }
    readonly wss: ListenerSettings & { readonly path: string }
  }
  /**
   * The server certificate (PEM) and its private key (PEM, a secret: encrypted at rest, never
   * returned) for TLS and WSS; when absent, a self-signed one is generated once per data dir.
   */
  readonly tls: { readonly certificate: string | null; readonly key: string | null }
}

export const DEFAULT_MQTT_SETTINGS: MqttSettings = {
  ...DEFAULT_BROKER_LIMITS,
  listeners: {
    tls: { enabled: true, port: null },
    ws: { enabled: true, port: null, path: '/mqtt' },
    wss: { enabled: true, port: null, path: '/mqtt' },
  },
  tls: { certificate: null, key: null },
}

/** TLS to an external broker: the connectors' TLS field group (PEM contents; `clientKey` a secret). */
export interface ExternalBrokerTls {
  readonly enable: boolean
  readonly verify: boolean
  readonly caCert?: string
  readonly clientCert?: string
  readonly clientKey?: string
  readonly serverName?: string
}

/**
 * An existing MQTT broker a deployment attaches to as a client instead of running its own
 * (docs/external-broker.md). Every field filled in; `password` and `tls.clientKey` in clear (the
 * store seals them).
 */
export interface ExternalBrokerSettings {
  readonly mode: 'external'
  /** `host:port` or `mqtt://`/`mqtts://` URLs, tried in turn. */
  readonly servers: readonly string[]
  /** The client ID is this prefix, the node name and the deployment ID. */
  readonly clientIdPrefix: string
  readonly username?: string
  readonly password?: string
  readonly protocolVersion: 4 | 5
  readonly tls: ExternalBrokerTls
  /** Filters subscribed; undefined = those of the deployment's rules (their FROM topics). */
  readonly topics?: readonly string[]
  /** Subscribe as `$share/<group>/<filter>` so each message goes to one node; null = plain subscriptions. */
  readonly sharedGroup: string | null
  readonly qos: 0 | 1 | 2
  readonly keepaliveS: number
  readonly sessionExpiryS: number
  readonly connectTimeoutMs: number
}

export type BrokerSettings = { readonly mode: 'embedded' } | ExternalBrokerSettings

export const EMBEDDED_BROKER: BrokerSettings = { mode: 'embedded' }

export interface ConnectorRecord {
  readonly id: string
  readonly deploymentId: string
  readonly name: string
  readonly type: string
  readonly description: string
  /** Validated, defaults filled in, secrets in clear (the store encrypts them at rest). */
  readonly config: Record<string, unknown>
  readonly enabled: boolean
  /** Increases on every save; a PUT with an older one is refused. */
  readonly version: number
  readonly createdAt: string
  readonly updatedAt: string
}

export interface RuleAction {
  /** Send through this connector (same deployment)... */
  readonly connectorId?: string
  /** ...or an action Junction performs itself, by name (`republish`; src/runtime/builtin-actions.ts). */
  readonly builtin?: string
  /** Validated against the connector type's (or built-in's) params schema, defaults filled in. */
  readonly params: Record<string, unknown>
  /** Queue settings as the user gave them; defaults apply to the rest. */
  readonly options?: Record<string, unknown>
  /** Gets the messages this action finally fails or drops as expired. */
  readonly fallback?: RuleAction
}

/** Connector IDs an action list uses, fallbacks included, in order (duplicates kept). */
export function connectorIdsOf(actions: readonly RuleAction[]): string[] {
  const out: string[] = []
  const visit = (a: RuleAction | undefined) => {
    if (!a) return
    if (a.connectorId) out.push(a.connectorId)
    visit(a.fallback)
  }
  for (const a of actions) visit(a)
  return out
}

export interface RuleRecord {
  readonly id: string
  readonly deploymentId: string
  readonly name: string
  readonly sql: string
  readonly description: string
  readonly enabled: boolean
  readonly actions: readonly RuleAction[]
  readonly createdAt: string
  readonly updatedAt: string
}

export interface RuleRef {
  readonly id: string
  readonly name: string
}
