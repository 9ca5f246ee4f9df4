/** Shapes of the Junction REST API the console reads (docs/api.md). */

export type Plan = 'serverless' | 'dedicated' | 'premium'
export type DeploymentStatus = 'running' | 'stopped' | 'error'
export type ConnectorStatus = 'connecting' | 'connected' | 'disconnected' | 'stopped'

export interface Deployment {
  id: string
  name: string
  plan: Plan
  status: DeploymentStatus
  statusReason: string | null
  mqttPort: number | null
  /** Broker settings, then where the broker listens now: TCP host and port (null while not running) and every listener's URLs. */
  mqtt: MqttSettings & { host: string | null; port: number | null; addresses: ListenerAddress[] }
  /** Which broker: the deployment's own, or an external one it is attached to (with the connection's status). */
  broker: BrokerView
  createdAt: string
  updatedAt: string
}

export type ExternalBrokerStatus = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'stopped'

/** `broker` of a deployment: `{mode: "embedded"}`, or an external broker's settings (secrets masked) and its connection now. */
export interface BrokerView {
  mode: 'embedded' | 'external'
  servers?: string[]
  clientIdPrefix?: string
  username?: string
  protocolVersion?: 4 | 5
  topics?: string[]
  sharedGroup?: string | null
  qos?: 0 | 1 | 2
  status?: ExternalBrokerStatus
  statusReason?: string | null
  statusCode?: string | null
  statusSince?: string
  lastConnectedAt?: string | null
  server?: string | null
  clientId?: string
  subscriptions?: string[]
}

/** One listener of a running broker and the URLs devices can use for it (one per address of the machine). */
export interface ListenerAddress {
  transport: 'tcp' | 'tls' | 'ws' | 'wss'
  port: number
  urls: string[]
}

export interface MqttLimits {
  allowAnonymous: boolean
  maxPacketSize: number
  maxConnections: number | null
  serverKeepAlive: number | null
  maxInflight: number
  maxQueuedMessages: number
  maxSessionExpiry: number
  maxMessageRate: number | null
  maxConnectionRate: number | null
}

export interface MqttSettings extends MqttLimits {
  listeners: {
    tls: { enabled: boolean; port: number | null }
    ws: { enabled: boolean; port: number | null; path: string }
    wss: { enabled: boolean; port: number | null; path: string }
  }
  /** `key` is "******" when set. */
  tls: { certificate: string | null; key: string | null }
}

export interface DeviceUser {
  username: string
  superuser: boolean
  createdAt: string
  updatedAt: string
}

export interface LoginStats {
  succeeded: number
  failed: number
  anonymousRefused: number
  failedByUsername: Array<{ username: string; failures: number; lastFailureAt: string }>
  failedByPeerhost: Array<{ peerhost: string; failures: number; lastFailureAt: string }>
}

/** GET /deployments/{dep}/mqtt/stats: the broker's figures now (null while the deployment is not running). */
export interface BrokerStats {
  connections: number
  sessions: number
  subscriptions: number
  retained: number
  queued: number
  inflight: number
  /** Counters since the broker started. */
  received: number
  sent: number
  noSubscribers: number
  connackRefused: number
  dropped: Record<DropReason, number>
}

/** EMQX's delivery_dropped reasons: why a message was lost for one subscriber. */
export type DropReason = 'queue_full' | 'expired' | 'no_local' | 'qos0_msg' | 'too_large'

export type AclWho = 'all' | { username: string } | { clientid: string }
export type AclPermission = 'allow' | 'deny'

export interface AclRule {
  who: AclWho
  action: 'publish' | 'subscribe' | 'all'
  topic: string
  permission: AclPermission
}

export interface MqttAcl {
  rules: AclRule[]
  default: AclPermission
  updatedAt?: string | null
}

/** A JSON Schema node as the API serves it (TypeBox output): only what the form generator reads. */
export interface JsonSchema {
  type?: string | string[]
  title?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  properties?: Record<string, JsonSchema>
  patternProperties?: Record<string, JsonSchema>
  required?: string[]
  writeOnly?: boolean
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  examples?: unknown[]
  if?: JsonSchema
  then?: JsonSchema
  else?: JsonSchema
}

export interface ConnectorType {
  type: string
  title: string
  summary: string
  configSchema: JsonSchema
  paramsSchema: JsonSchema
}

export interface Series {
  success: number[]
  failed: number[]
  dropped: number[]
}

export interface ConnectorMetrics {
  matched: number
  success: number
  failed: number
  dropped: number
  queuing: number
  inflight: number
  retried: number
  rate: { success: number; failed: number; dropped: number }
  lastSuccessAt: string | null
  lastError: unknown
  series?: Series
}

/** What a connector's actions deliver (GET connectors: `delivery`); `status` is only the connection. */
export interface ConnectorDelivery {
  state: HealthState
  reason?: string
  code?: string
  since?: string
  failingActions: number
  stalledActions: number
}

export type HealthState = 'ok' | 'failing' | 'stalled'

/** An action's health from its deliveries (docs/rules.md, Health). */
export interface ActionHealth {
  state: HealthState
  code?: string
  message?: string
  since?: string
}

export interface ConnectorSummary {
  id: string
  deploymentId: string
  name: string
  type: string
  description: string
  enabled: boolean
  version: number
  status: ConnectorStatus
  statusReason: string | null
  statusCode: string | null
  statusSince: string | null
  lastConnectedAt: string | null
  ruleCount: number
  metrics?: ConnectorMetrics
  delivery?: ConnectorDelivery
  createdAt: string
  updatedAt: string
}

export interface RuleRef {
  id: string
  name: string
}

export interface ConnectorDetails extends ConnectorSummary {
  config: Record<string, unknown>
  rules: RuleRef[]
}

export interface ProbeStep {
  name: string
  ok: boolean
  ms: number
  detail?: string
}

export type ProbeResult =
  | { ok: true; latencyMs: number; steps: ProbeStep[] }
  | { ok: false; error: { code: string; message: string; hint?: string }; steps: ProbeStep[] }

export interface RuleAction {
  connectorId?: string
  builtin?: string
  params: Record<string, unknown>
  options?: Record<string, unknown>
  fallback?: RuleAction
}

export interface ActionMetrics {
  matched: number
  success: number
  failed: number
  retried: number
  dropped: number
  droppedByReason: Record<string, number>
  queuing: number
  inflight: number
  rate: { success: number; failed: number; dropped: number }
  lastError: { code?: string; message?: string } | string | null
  lastErrorCode?: string | null
  lastErrorAt: string | null
  lastSuccessAt: string | null
  health?: ActionHealth
  series?: Series
  /** The action's fallback, when it has one. */
  fallback?: Omit<ActionMetrics, 'fallback'>
  /** The action's failed-message store, while it has one open (option keepFailed). */
  failedMessages?: FailedMessagesStats
}

export interface FailedMessagesStats {
  stored: number
  bytes: number
  evicted: number
  maxMessages: number
  maxBytes: number
}

export type FailureReason = 'failed' | 'expired' | 'queue_full' | 'stopped'

export interface FailedMessage {
  id: string
  at: string
  reason: FailureReason
  code: string | null
  error: string | null
  attempts: number
  bytes: number
}

export interface FailedMessageList extends FailedMessagesStats {
  enabled: boolean
  data: Array<FailedMessage & { excerpt: string }>
  next: string | null
}

export interface RuleMetrics {
  rule: {
    matched: number
    passed: number
    noResult: number
    failed: number
    rate: { matched: number }
    lastError: unknown
    series?: { matched: number[] }
    /** The actions taken together, as EMQX counts them per rule. */
    actions?: { total: number; success: number; failed: number; discarded: number }
  }
  actions: ActionMetrics[]
}

export interface Rule {
  id: string
  deploymentId: string
  name: string
  sql: string
  description: string
  enabled: boolean
  actions: RuleAction[]
  metrics: RuleMetrics | null
  createdAt: string
  updatedAt: string
  /** On create and update: actions not checked against their resource, and what the checks noted. */
  warnings?: RuleWarning[]
}

export interface RuleWarning {
  path: string
  code?: string
  message: string
}

/** `POST .../rules/test-action`: what the resource answered to one sample output. */
export interface ActionTestResult {
  ok: boolean
  durationMs: number
  rolledBack: boolean
  error?: { code: string; message: string; kind: string; hint?: string }
}

export interface RuleTestResult {
  matched: boolean
  output?: unknown
  outputs?: unknown[]
  reason?: string
}

export interface FieldError {
  path: string
  message: string
  hint?: string
}

export interface ErrorBody {
  code: string
  message: string
  hint?: string
  fields?: FieldError[]
  rules?: RuleRef[]
  line?: number
  column?: number
  expected?: string[]
  found?: string
  currentVersion?: number
}

export interface List<T> {
  data: T[]
}
