import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { BrokerSettingsSchema } from '../control/broker-settings.js'
import { PLANS } from '../core/domain.js'
import { ID_PATTERN } from '../core/ids.js'

/** Request and response schemas: route validation and the OpenAPI document come from these. */

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Display name; unique within its scope.' })
const Timestamp = Type.String({ format: 'date-time' })
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable code; docs/errors.md lists them.' }),
    message: Type.String(),
    hint: Type.Optional(Type.String()),
    fields: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String(), hint: Type.String() }))),
  }, { additionalProperties: true }),
}, { $id: 'Error' })

export const DeploymentParams = Type.Object({ dep: Type.String({ pattern: ID_PATTERN, description: 'Deployment ID' }) })
export const ConnectorParams = Type.Object({
  dep: Type.String({ pattern: ID_PATTERN, description: 'Deployment ID' }),
  id: Type.String({ pattern: ID_PATTERN, description: 'Connector ID' }),
})

const Plan = Type.Union(PLANS.map((p) => Type.Literal(p)), { description: 'Editing connectors needs dedicated or premium.' })
const MqttPort = Nullable(Type.Integer({ minimum: 1, maximum: 65535, description: 'MQTT listener port; null picks the first free one from 1883.' }))

const Rate = (what: string) => Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000_000, description: `${what} per second; null = no limit.` }))

/** The broker limits of a deployment, as stored (GET) and as changed (PATCH, every field optional). */
const mqttLimitFields = {
  allowAnonymous: Type.Boolean({ description: 'Clients without a username, or with a username that is not a device user, may connect as anonymous. A device user always needs its password. Default false; JUNCTION_MQTT_ALLOW_ANONYMOUS sets it for `default` at every start.' }),
  maxPacketSize: Type.Integer({ minimum: 16, maximum: 268_435_455, description: 'Largest MQTT packet accepted and sent, in bytes (default 1048576).' }),
  maxConnections: Nullable(Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'Concurrent client connections; null = no limit.' })),
  serverKeepAlive: Nullable(Type.Integer({ minimum: 1, maximum: 65_535, description: 'MQTT 5 Server Keep Alive in seconds, imposed on clients asking for more or none; null = off.' })),
  maxInflight: Type.Integer({ minimum: 1, maximum: 65_535, description: 'QoS 1/2 messages sent to one client and not yet acknowledged (default 32).' }),
  maxQueuedMessages: Type.Integer({ minimum: 0, maximum: 10_000_000, description: 'Messages queued per session beyond its inflight window (default 1000).' }),
  maxSessionExpiry: Type.Integer({ minimum: 0, maximum: 4_294_967_295, description: 'Upper bound of a session expiry interval, in seconds (default 7200).' }),
  maxMessageRate: Rate('Messages one client may publish'),
  maxConnectionRate: Rate('New connections the deployment accepts'),
}

const ListenerPort = Nullable(Type.Integer({ minimum: 1, maximum: 65_535, description: "Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken." }))
const WsPath = Type.String({ minLength: 1, maxLength: 200, pattern: '^/[^\\s?#]*$', description: 'HTTP path of the WebSocket endpoint, starting with "/" (default /mqtt).' })
const Pem = (what: string) => Nullable(Type.String({ maxLength: 65_536, description: what }))
const CERT_DOC = 'Server certificate (PEM) for the TLS and WSS listeners; null = a self-signed one generated once per data dir.'
const KEY_DOC = 'Private key (PEM, unencrypted) of the certificate. Secret: encrypted at rest, shown as "******"; sending "******" keeps the stored key.'

const listenerView = (ws: boolean) => Type.Object({
  enabled: Type.Boolean(),
  port: ListenerPort,
  ...(ws ? { path: WsPath } : {}),
}, { additionalProperties: true })

/** `mqtt` of a Deployment: every setting, then where the broker listens now. */
export const MqttView = Type.Object({
  ...mqttLimitFields,
  listeners: Type.Object({ tls: listenerView(false), ws: listenerView(true), wss: listenerView(true) }, { additionalProperties: true, description: 'Settings of the extra listeners (the plain TCP one is mqttPort).' }),
  tls: Type.Object({ certificate: Pem(CERT_DOC), key: Pem(KEY_DOC) }),
  host: Nullable(Type.String({ description: 'Address the TCP listener is bound to; null while not running.' })),
  port: Nullable(Type.Integer({ description: 'Port the TCP listener listens on now; null while not running.' })),
  addresses: Type.Array(Type.Object({
    transport: Type.Union([Type.Literal('tcp'), Type.Literal('tls'), Type.Literal('ws'), Type.Literal('wss')]),
    port: Type.Integer(),
    urls: Type.Array(Type.String(), { description: 'What devices connect to, one per address of this machine (mqtt://, mqtts://, ws://, wss://).' }),
  }), { description: 'Every open listener, plain TCP first, then TLS, WebSocket and secure WebSocket as enabled; empty while not running.' }),
}, { additionalProperties: true, description: 'Broker settings (TLS key masked), then where the broker listens now: host/port of the TCP listener (null while not running) and the addresses of every listener.' })

const listenerPatch = (ws: boolean) => Type.Object({
  enabled: Type.Optional(Type.Boolean()),
  port: Type.Optional(ListenerPort),
  ...(ws ? { path: Type.Optional(WsPath) } : {}),
}, { additionalProperties: false })

export const MqttSettingsPatch = Type.Object({
  ...Type.Partial(Type.Object(mqttLimitFields)).properties,
  listeners: Type.Optional(Type.Object({ tls: Type.Optional(listenerPatch(false)), ws: Type.Optional(listenerPatch(true)), wss: Type.Optional(listenerPatch(true)) }, { additionalProperties: false })),
  tls: Type.Optional(Type.Object({ certificate: Type.Optional(Pem(CERT_DOC)), key: Type.Optional(Pem(KEY_DOC)) }, { additionalProperties: false, description: 'Both or neither: the key must belong to the certificate.' })),
}, { additionalProperties: false, description: 'Broker settings to change; fields left out keep their value. allowAnonymous and limits apply without a restart.' })

const count = (description: string) => Type.Integer({ minimum: 0, description })

export const BrokerStats = Type.Object({
  connections: count('Clients connected now.'),
  sessions: count('Sessions kept: connected, or persistent and waiting for their client.'),
  subscriptions: count('Subscriptions of all sessions.'),
  retained: count('Retained messages.'),
  queued: count("Messages waiting in sessions' queues."),
  inflight: count('Messages written to subscribers and not yet acknowledged.'),
  received: count('PUBLISH packets received from clients since the broker started.'),
  sent: count('Messages written to subscribers since the broker started.'),
  noSubscribers: count('Client messages no subscription took.'),
  connackRefused: count('CONNECTs answered with a failure reason code.'),
  dropped: Type.Object({
    queue_full: count("Lost because the subscriber's queue was full (its oldest QoS 0 message goes first)."),
    expired: count('Expired (MQTT 5 Message Expiry Interval) before they could be sent.'),
    no_local: count('Not sent back to their publisher (No Local).'),
    qos0_msg: count('QoS 0 messages for a persistent session while it was offline.'),
    too_large: count("Over the subscriber's Maximum Packet Size."),
  }, { description: 'Messages lost for one subscriber, by reason (EMQX delivery_dropped reasons).' }),
}, { description: "A deployment's broker figures." })

const external = BrokerSettingsSchema.properties
const { clientKey: _key, ...tlsShown } = external.tls.properties
/** An answer states what is: the serializer would fill a missing field with its request default (an embedded broker has none of them). */
const noDefault = <T extends TSchema>(t: T): T => {
  const { default: _d, ...rest } = t as T & { default?: unknown }
  return rest as unknown as T
}

/**
 * `broker` of a Deployment: `{mode: "embedded"}`, or an external broker's settings (secrets
 * masked) and the connection's status.
 */
export const BrokerView = Type.Object({
  mode: noDefault(external.mode),
  servers: Type.Optional(noDefault(external.servers)),
  clientIdPrefix: Type.Optional(noDefault(external.clientIdPrefix)),
  username: Type.Optional(noDefault(external.username)),
  password: Type.Optional(Type.String({ description: 'Masked ("******") when set.' })),
  protocolVersion: Type.Optional(noDefault(external.protocolVersion)),
  tls: Type.Optional(Type.Object({ ...Object.fromEntries(Object.entries(tlsShown).map(([k, v]) => [k, noDefault(v)])), clientKey: Type.Optional(Type.String({ description: 'Masked ("******") when set.' })) }, { additionalProperties: false })),
  topics: Type.Optional(noDefault(external.topics)),
  sharedGroup: Type.Optional(noDefault(external.sharedGroup)),
  qos: Type.Optional(noDefault(external.qos)),
  keepaliveS: Type.Optional(noDefault(external.keepaliveS)),
  sessionExpiryS: Type.Optional(noDefault(external.sessionExpiryS)),
  connectTimeoutMs: Type.Optional(noDefault(external.connectTimeoutMs)),
  status: Type.Optional(Type.Union(['connecting', 'connected', 'reconnecting', 'disconnected', 'stopped'].map((s) => Type.Literal(s)), {
    description: 'External: the connection now. connecting (first attempt), connected, reconnecting (an attempt after a failure), disconnected (waiting before the next attempt), stopped (the deployment is stopped).',
  })),
  statusReason: Type.Optional(Nullable(Type.String({ description: 'External: why it is not connected, or a subscription the broker refused.' }))),
  statusCode: Type.Optional(Nullable(Type.String({ description: 'External: a stable code for statusReason (AUTHENTICATION_FAILED, CONNECTION_REFUSED, CONNECTION_LOST, TIMEOUT, TLS_FAILED, NOT_PERMITTED...; docs/errors.md).' }))),
  statusSince: Type.Optional(Timestamp),
  lastConnectedAt: Type.Optional(Nullable(Timestamp)),
  server: Type.Optional(Nullable(Type.String({ description: 'External: the server of the current (or last) connection.' }))),
  clientId: Type.Optional(Type.String({ description: "External: this node's client ID on the broker." })),
  subscriptions: Type.Optional(Type.Array(Type.String(), { description: 'External: what the broker granted, as subscribed ($share/<group>/<filter>).' })),
}, { additionalProperties: false, description: 'Which broker the deployment uses; for an external one, its settings (secrets masked) and the connection status.' })

export const Deployment = Type.Object({
  id: Type.String(),
  name: Type.String(),
  plan: Plan,
  status: Type.Union([Type.Literal('running'), Type.Literal('stopped'), Type.Literal('error')]),
  statusReason: Nullable(Type.String()),
  mqttPort: MqttPort,
  mqtt: MqttView,
  broker: BrokerView,
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { $id: 'Deployment' })

export const CreateDeployment = Type.Object({ name: Name, plan: Type.Optional(Plan), mqttPort: Type.Optional(MqttPort), mqtt: Type.Optional(MqttSettingsPatch), broker: Type.Optional(BrokerSettingsSchema) }, { additionalProperties: false })
export const PatchDeployment = Type.Object({ name: Type.Optional(Name), plan: Type.Optional(Plan), mqttPort: Type.Optional(MqttPort), mqtt: Type.Optional(MqttSettingsPatch), broker: Type.Optional(BrokerSettingsSchema) }, { additionalProperties: false })

const ConnectorStatus = Type.Union(['connecting', 'connected', 'disconnected', 'stopped'].map((s) => Type.Literal(s)))
const RuleRef = Type.Object({ id: Type.String(), name: Type.String() })

const HealthState = (description: string) => Type.Union(['ok', 'failing', 'stalled'].map((s) => Type.Literal(s)), { description })

/** A connector's counters: its `metrics` (this node's), each node's, and their totals. */
const connectorCounterProps = {
  matched: Type.Integer(), success: Type.Integer(), failed: Type.Integer(), dropped: Type.Integer(),
  queuing: Type.Integer(), inflight: Type.Integer(), retried: Type.Integer(),
  rate: Type.Object({ success: Type.Number(), failed: Type.Number(), dropped: Type.Number() }, { description: 'Messages per second over the last 10 s.' }),
  lastSuccessAt: Nullable(Timestamp), lastError: Nullable(Type.String()),
}

const connectorSummaryProps = {
  id: Type.String({ description: 'Short ID; typed to confirm deletion.' }),
  deploymentId: Type.String(),
  name: Type.String(),
  type: Type.String(),
  description: Type.String(),
  enabled: Type.Boolean(),
  version: Type.Integer({ description: 'Send it back on PUT to refuse overwriting a newer save.' }),
  status: Type.Union([...ConnectorStatus.anyOf, Type.Literal('inconsistent')], {
    description: 'The connection on this node; with several nodes (docs/cluster.md), `inconsistent` when they disagree: see `nodes`.',
  }),
  nodes: Type.Array(Type.Object({
    node: Type.String(),
    status: ConnectorStatus,
    statusReason: Nullable(Type.String()),
    delivery: HealthState('Its delivery state on that node (`delivery.state` there).'),
    metrics: Type.Object(connectorCounterProps, { additionalProperties: false, description: 'What the rule actions sent through it on that node (`metrics` there, without series); zeros where none runs.' }),
  }, { additionalProperties: false }), { description: 'The connection status, delivery state and metrics on each node that is up, the answering node first; one entry on a single node. Other nodes\' as of their last heartbeat (1 s).' }),
  totals: Type.Object(connectorCounterProps, {
    additionalProperties: false,
    description: 'The sum of the nodes\' `metrics`: counters and rates added up, lastSuccessAt the latest, lastError the first node\'s (in `nodes` order) that has one. With one node, `metrics` without series.',
  }),
  statusReason: Nullable(Type.String()),
  statusCode: Nullable(Type.String({ description: 'Stable code of the reason, e.g. CONNECTION_REFUSED.' })),
  statusSince: Timestamp,
  lastConnectedAt: Nullable(Timestamp),
  ruleCount: Type.Integer({ description: 'Number of rules with an action on this connector.' }),
  metrics: Type.Object({
    ...connectorCounterProps,
    series: Type.Optional(Type.Object({ success: Type.Array(Type.Number()), failed: Type.Array(Type.Number()), dropped: Type.Array(Type.Number()) }, { description: 'Details only: messages per second over the last minute, oldest first.' })),
  }, { description: 'Totals of the rule actions sending through this connector (since start).' }),
  delivery: Type.Object({
    state: Type.Union(['ok', 'failing', 'stalled'].map((s) => Type.Literal(s)), {
      description: 'failing: an action sending through it fails its recent sends; stalled: messages wait and nothing was delivered for a while; ok otherwise (also when idle). Independent of status, which is about the connection.',
    }),
    reason: Type.Optional(Type.String({ description: 'Not ok: the message of the first failing (else stalled) action.' })),
    code: Type.Optional(Type.String({ description: 'failing: the ConnectorError code of that failure, e.g. INVALID_STATEMENT.' })),
    since: Type.Optional(Timestamp),
    failingActions: Type.Integer({ description: 'Rule actions (fallbacks included) through this connector that are failing.' }),
    stalledActions: Type.Integer({ description: 'Rule actions (fallbacks included) through this connector that are stalled.' }),
  }, { description: "Whether deliveries through this connector arrive, from its actions' health (see docs/rules.md, Health)." }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}

export const ConnectorSummary = Type.Object(connectorSummaryProps, { $id: 'ConnectorSummary' })
export const ConnectorDetails = Type.Object({
  ...connectorSummaryProps,
  config: Type.Record(Type.String(), Type.Unknown(), { description: 'Per type: the fields of the type\'s configSchema (GET /api/v1/connector-types), every one with defaults filled in; secrets as "******".' }),
  rules: Type.Array(RuleRef, { description: 'Rules that use this connector.' }),
}, { $id: 'ConnectorDetails' })

const Config = Type.Record(Type.String(), Type.Unknown(), { description: "Validated against the type's config schema (GET /api/v1/connector-types)." })

export const CreateConnector = Type.Object({
  name: Name,
  type: Type.String({ minLength: 1, description: 'A type from GET /api/v1/connector-types.' }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  enabled: Type.Optional(Type.Boolean({ default: true })),
  config: Config,
}, { additionalProperties: false })

export const UpdateConnector = Type.Object({
  name: Type.Optional(Name),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  enabled: Type.Optional(Type.Boolean()),
  config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The whole new config, per the type\'s configSchema (GET /api/v1/connector-types); a secret sent as "******" keeps the stored one.' })),
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'The version you edited; a stale one is refused with 409.' })),
}, { additionalProperties: false })

export const TestConnector = Type.Object({ type: Type.String({ minLength: 1 }), config: Config }, { additionalProperties: false })
export const TestSavedConnector = Type.Object({
  config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'An edit to test before saving, per the type\'s configSchema (GET /api/v1/connector-types); "******" keeps stored secrets.' })),
}, { additionalProperties: false })

export const DeleteConnectorQuery = Type.Object({ confirm: Type.Optional(Type.String({ description: 'The connector ID, typed again.' })) }, { additionalProperties: false })

const ProbeStep = Type.Object({ name: Type.String(), ok: Type.Boolean(), ms: Type.Number(), detail: Type.Optional(Type.String()) })
export const ProbeResult = Type.Object({
  ok: Type.Boolean(),
  latencyMs: Type.Optional(Type.Number()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), hint: Type.String() })),
  steps: Type.Array(ProbeStep),
}, { $id: 'ProbeResult', description: 'The Test: ok with latency, or the failing step and an error code with a hint.' })

export const ConnectorType = Type.Object({
  type: Type.String(),
  title: Type.String(),
  summary: Type.String(),
  configSchema: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema: defaults, descriptions; secret fields have writeOnly: true.' }),
  paramsSchema: Type.Record(Type.String(), Type.Unknown(), { description: "JSON Schema of a rule action's params on this type." }),
})

export const Login = Type.Object({ username: Type.String({ minLength: 1 }), password: Type.String({ minLength: 1 }) }, { additionalProperties: false })
export const LoginResult = Type.Object({ token: Type.String(), expiresAt: Timestamp, username: Type.String(), role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('editor'), Type.Literal('viewer')], { description: 'What the user may do: see docs/api.md, "Roles".' })) })

export const Me = Type.Object({
  name: Type.String({ description: 'The console user name or the API key.' }),
  kind: Type.Union([Type.Literal('user'), Type.Literal('api_key')]),
  role: Type.Union([Type.Literal('admin'), Type.Literal('editor'), Type.Literal('viewer')], { description: 'What the caller may do: see docs/api.md, "Roles". Read per request, so a changed role shows at once.' }),
})

export const listOf = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item) })

export const errorResponses = (...codes: number[]): Record<number, unknown> =>
  Object.fromEntries(codes.map((c) => [c, Type.Ref('Error')]))

/** The change history of a connector or rule (docs/api.md, "Change history"). */
export const historyVersionProps = {
  version: Type.Integer({ minimum: 1, description: 'Counts from 1 per object; a connector\'s is its `version` after that change.' }),
  at: Timestamp,
  actor: Type.Object({ kind: Type.String({ description: '`user` (console login), `api_key`, or `system` (made before history existed, or by Junction itself).' }), name: Type.String() }),
  source: Type.String({ description: 'The client address the change came from (empty for `system`).' }),
  action: Type.String({ description: '`create`, `update`, `revert`, `enable`, `disable` (rules), or `baseline` (the state when history began).' }),
  revertedFrom: Type.Optional(Type.Integer({ description: 'A revert: the version it put back.' })),
  diff: Nullable(Type.Array(Type.Object({ path: Type.String(), before: Type.Optional(Type.Unknown()), after: Type.Optional(Type.Unknown()) }), {
    description: 'Changed fields against the version before (`config.host`, `sql`, `actions.0.params.sql`); secrets are `******` (a changed secret shows as `******` on both sides); null for the first version kept.',
  })),
}
export const HistoryVersion = Type.Object(historyVersionProps, { $id: 'HistoryVersion' })
export const HistoryPage = Type.Object({
  data: Type.Array(Type.Ref('HistoryVersion'), { description: 'Newest first.' }),
  next: Type.Optional(Type.String({ description: 'Pass as `after` for the next page; absent on the last.' })),
})
export const HistoryQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$', description: 'Versions per page, 1 to 1000 (default 100).' })),
  after: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,9}$', description: 'The `version` of the last entry of the previous page.' })),
}, { additionalProperties: false })
export const VersionParam = Type.String({ pattern: '^[1-9][0-9]{0,9}$', description: 'A version number from the history.' })
export const RevertBody = Type.Object({
  version: Type.Integer({ minimum: 1, description: 'The version to put back, from the history.' }),
}, { additionalProperties: false })
export const ConnectorVersion = Type.Object({
  ...historyVersionProps,
  config: Type.Object({
    name: Type.String(), description: Type.String(), enabled: Type.Boolean(),
    config: Type.Record(Type.String(), Type.Unknown(), { description: 'The connector\'s config then, per its type\'s configSchema; secrets as "******".' }),
  }, { additionalProperties: false, description: 'The connector as it was in this version.' }),
}, { $id: 'ConnectorVersion' })

/** `limit`/`after` of a history query as numbers: one more than asked, to know whether a page follows. */
export function historyPaging(q: Static<typeof HistoryQuery>): { limit: number; before?: number } {
  return { limit: Math.min(1000, Number(q.limit ?? 100)) + 1, ...(q.after === undefined ? {} : { before: Number(q.after) }) }
}

export function historyAnswer<T extends { version: number }>(rows: T[], asked: number): { data: T[]; next?: string } {
  const limit = asked - 1
  if (rows.length <= limit) return { data: rows }
  const page = rows.slice(0, limit)
  return { data: page, next: String(page[page.length - 1]!.version) }
}
