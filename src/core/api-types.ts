// Generated from GET /api/v1/openapi.json by `npm run generate:api-types`; do not edit.
// test/api/generated-types.test.ts fails when it is not up to date.
/* eslint-disable */

export type ErrorBody = {
  error: {
    /** Stable code; docs/errors.md lists them. */
    code: string
    message: string
    hint?: string
    fields?: Array<{
      path: string
      message: string
      hint: string
    }>
    [key: string]: unknown
  }
}

export type Deployment = {
  id: string
  name: string
  /** Editing connectors needs dedicated or premium. */
  plan: ("serverless" | "dedicated" | "premium")
  status: ("running" | "stopped" | "error")
  statusReason: string | null
  /** MQTT listener port; null picks the first free one from 1883. */
  mqttPort: number | null
  /** Broker settings (TLS key masked), then where the broker listens now: host/port of the TCP listener (null while not running) and the addresses of every listener. */
  mqtt: {
    /** Clients without a username, or with a username that is not a device user, may connect as anonymous. A device user always needs its password. Default false; JUNCTION_MQTT_ALLOW_ANONYMOUS sets it for `default` at every start. */
    allowAnonymous: boolean
    /** Largest MQTT packet accepted and sent, in bytes (default 1048576). */
    maxPacketSize: number
    /** Concurrent client connections; null = no limit. */
    maxConnections: number | null
    /** MQTT 5 Server Keep Alive in seconds, imposed on clients asking for more or none; null = off. */
    serverKeepAlive: number | null
    /** QoS 1/2 messages sent to one client and not yet acknowledged (default 32). */
    maxInflight: number
    /** Messages queued per session beyond its inflight window (default 1000). */
    maxQueuedMessages: number
    /** Upper bound of a session expiry interval, in seconds (default 7200). */
    maxSessionExpiry: number
    /** Messages one client may publish per second; null = no limit. */
    maxMessageRate: number | null
    /** New connections the deployment accepts per second; null = no limit. */
    maxConnectionRate: number | null
    /** Settings of the extra listeners (the plain TCP one is mqttPort). */
    listeners: {
      tls: {
        enabled: boolean
        /** Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken. */
        port: number | null
        [key: string]: unknown
      }
      ws: {
        enabled: boolean
        /** Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken. */
        port: number | null
        /** HTTP path of the WebSocket endpoint, starting with "/" (default /mqtt). */
        path: string
        [key: string]: unknown
      }
      wss: {
        enabled: boolean
        /** Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken. */
        port: number | null
        /** HTTP path of the WebSocket endpoint, starting with "/" (default /mqtt). */
        path: string
        [key: string]: unknown
      }
      [key: string]: unknown
    }
    tls: {
      /** Server certificate (PEM) for the TLS and WSS listeners; null = a self-signed one generated once per data dir. */
      certificate: string | null
      /** Private key (PEM, unencrypted) of the certificate. Secret: encrypted at rest, shown as "******"; sending "******" keeps the stored key. */
      key: string | null
    }
    /** Address the TCP listener is bound to; null while not running. */
    host: string | null
    /** Port the TCP listener listens on now; null while not running. */
    port: number | null
    /** Every open listener, plain TCP first, then TLS, WebSocket and secure WebSocket as enabled; empty while not running. */
    addresses: Array<{
      transport: ("tcp" | "tls" | "ws" | "wss")
      port: number
      /** What devices connect to, one per address of this machine (mqtt://, mqtts://, ws://, wss://). */
      urls: Array<string>
    }>
    [key: string]: unknown
  }
  /** Which broker the deployment uses; for an external one, its settings (secrets masked) and the connection status. */
  broker: {
    /** `embedded`: the deployment runs its own MQTT broker (mqttPort, mqtt). `external`: it attaches as a client to an existing MQTT broker (docs/external-broker.md). */
    mode: ("embedded" | "external")
    /** External: the broker's addresses (a cluster's nodes). Each Junction node starts at the one its node name picks, tries the others in turn when it is lost, and goes back to it once it answers (docs/cluster.md). Without a port: 1883, or 8883 with TLS. Required with mode external. */
    servers?: Array<string>
    /** External: client ID = prefix + node name + "-" + deployment ID, so every Junction node and deployment has its own session on the broker. */
    clientIdPrefix?: string
    /** External: user name sent in CONNECT. Leave it out for anonymous access. */
    username?: string
    /** Masked ("******") when set. */
    password?: string
    /** External: MQTT 5 (5) or 3.1.1 (4). With 5 a message that Junction could not take is acknowledged with a failure reason code. */
    protocolVersion?: (5 | 4)
    tls?: {
      /** Connect over TLS. */
      enable: boolean
      /** Verify the server's certificate and host name. Turn off only for a self-signed server you trust. */
      verify: boolean
      /** PEM CA certificate(s) to trust instead of the system store. */
      caCert?: string
      /** PEM client certificate, for servers that require mutual TLS. */
      clientCert?: string
      /** Server name (SNI) to send and verify; defaults to the host. */
      serverName?: string
      /** Masked ("******") when set. */
      clientKey?: string
    }
    /** External: topic filters to subscribe. Left out: the FROM topics of the deployment's rules, kept in step as rules change (recommended). */
    topics?: Array<string>
    /** External: subscribe as $share/<group>/<filter>, so each message goes to one Junction node of the group. null: plain subscriptions (every node gets every message). */
    sharedGroup?: string | null
    /** External: QoS of the subscriptions. With 1 or 2 a message is acknowledged to the broker only once Junction took it (docs/external-broker.md). */
    qos?: (0 | 1 | 2)
    /** External: MQTT keep alive in seconds. */
    keepaliveS?: number
    /** External: how long the broker keeps the session (subscriptions and QoS 1/2 messages) while Junction is away; MQTT 5 Session Expiry Interval. 3.1.1 sessions (clean session false) last as the broker decides. */
    sessionExpiryS?: number
    /** External: how long opening a connection (TCP, TLS and CONNECT) may take. */
    connectTimeoutMs?: number
    /** External: the connection now. connecting (first attempt), connected, reconnecting (an attempt after a failure), disconnected (waiting before the next attempt), stopped (the deployment is stopped). */
    status?: ("connecting" | "connected" | "reconnecting" | "disconnected" | "stopped")
    /** External: why it is not connected, or a subscription the broker refused. */
    statusReason?: string | null
    /** External: a stable code for statusReason (AUTHENTICATION_FAILED, CONNECTION_REFUSED, CONNECTION_LOST, TIMEOUT, TLS_FAILED, NOT_PERMITTED...; docs/errors.md). */
    statusCode?: string | null
    statusSince?: string
    lastConnectedAt?: string | null
    /** External: the server of the current (or last) connection. */
    server?: string | null
    /** External: this node's client ID on the broker. */
    clientId?: string
    /** External: what the broker granted, as subscribed ($share/<group>/<filter>). */
    subscriptions?: Array<string>
  }
  createdAt: string
  updatedAt: string
}

export type ConnectorSummary = {
  /** Short ID; typed to confirm deletion. */
  id: string
  deploymentId: string
  name: string
  type: string
  description: string
  enabled: boolean
  /** Send it back on PUT to refuse overwriting a newer save. */
  version: number
  /** The connection on this node; with several nodes (docs/cluster.md), `inconsistent` when they disagree: see `nodes`. */
  status: ("connecting" | "connected" | "disconnected" | "stopped" | "inconsistent")
  /** The connection status, delivery state and metrics on each node that is up, the answering node first; one entry on a single node. Other nodes' as of their last heartbeat (1 s). */
  nodes: Array<{
    node: string
    status: ("connecting" | "connected" | "disconnected" | "stopped")
    statusReason: string | null
    /** Its delivery state on that node (`delivery.state` there). */
    delivery: ("ok" | "failing" | "stalled")
    /** What the rule actions sent through it on that node (`metrics` there, without series); zeros where none runs. */
    metrics: {
      matched: number
      success: number
      failed: number
      dropped: number
      queuing: number
      inflight: number
      retried: number
      /** Messages per second over the last 10 s. */
      rate: {
        success: number
        failed: number
        dropped: number
      }
      lastSuccessAt: string | null
      lastError: string | null
    }
  }>
  /** The sum of the nodes' `metrics`: counters and rates added up, lastSuccessAt the latest, lastError the first node's (in `nodes` order) that has one. With one node, `metrics` without series. */
  totals: {
    matched: number
    success: number
    failed: number
    dropped: number
    queuing: number
    inflight: number
    retried: number
    /** Messages per second over the last 10 s. */
    rate: {
      success: number
      failed: number
      dropped: number
    }
    lastSuccessAt: string | null
    lastError: string | null
  }
  statusReason: string | null
  /** Stable code of the reason, e.g. CONNECTION_REFUSED. */
  statusCode: string | null
  statusSince: string
  lastConnectedAt: string | null
  /** Number of rules with an action on this connector. */
  ruleCount: number
  /** Totals of the rule actions sending through this connector (since start). */
  metrics: {
    matched: number
    success: number
    failed: number
    dropped: number
    queuing: number
    inflight: number
    retried: number
    /** Messages per second over the last 10 s. */
    rate: {
      success: number
      failed: number
      dropped: number
    }
    lastSuccessAt: string | null
    lastError: string | null
    /** Details only: messages per second over the last minute, oldest first. */
    series?: {
      success: Array<number>
      failed: Array<number>
      dropped: Array<number>
    }
  }
  /** Whether deliveries through this connector arrive, from its actions' health (see docs/rules.md, Health). */
  delivery: {
    /** failing: an action sending through it fails its recent sends; stalled: messages wait and nothing was delivered for a while; ok otherwise (also when idle). Independent of status, which is about the connection. */
    state: ("ok" | "failing" | "stalled")
    /** Not ok: the message of the first failing (else stalled) action. */
    reason?: string
    /** failing: the ConnectorError code of that failure, e.g. INVALID_STATEMENT. */
    code?: string
    since?: string
    /** Rule actions (fallbacks included) through this connector that are failing. */
    failingActions: number
    /** Rule actions (fallbacks included) through this connector that are stalled. */
    stalledActions: number
  }
  createdAt: string
  updatedAt: string
}

export type ConnectorDetails = {
  /** Short ID; typed to confirm deletion. */
  id: string
  deploymentId: string
  name: string
  type: string
  description: string
  enabled: boolean
  /** Send it back on PUT to refuse overwriting a newer save. */
  version: number
  /** The connection on this node; with several nodes (docs/cluster.md), `inconsistent` when they disagree: see `nodes`. */
  status: ("connecting" | "connected" | "disconnected" | "stopped" | "inconsistent")
  /** The connection status, delivery state and metrics on each node that is up, the answering node first; one entry on a single node. Other nodes' as of their last heartbeat (1 s). */
  nodes: Array<{
    node: string
    status: ("connecting" | "connected" | "disconnected" | "stopped")
    statusReason: string | null
    /** Its delivery state on that node (`delivery.state` there). */
    delivery: ("ok" | "failing" | "stalled")
    /** What the rule actions sent through it on that node (`metrics` there, without series); zeros where none runs. */
    metrics: {
      matched: number
      success: number
      failed: number
      dropped: number
      queuing: number
      inflight: number
      retried: number
      /** Messages per second over the last 10 s. */
      rate: {
        success: number
        failed: number
        dropped: number
      }
      lastSuccessAt: string | null
      lastError: string | null
    }
  }>
  /** The sum of the nodes' `metrics`: counters and rates added up, lastSuccessAt the latest, lastError the first node's (in `nodes` order) that has one. With one node, `metrics` without series. */
  totals: {
    matched: number
    success: number
    failed: number
    dropped: number
    queuing: number
    inflight: number
    retried: number
    /** Messages per second over the last 10 s. */
    rate: {
      success: number
      failed: number
      dropped: number
    }
    lastSuccessAt: string | null
    lastError: string | null
  }
  statusReason: string | null
  /** Stable code of the reason, e.g. CONNECTION_REFUSED. */
  statusCode: string | null
  statusSince: string
  lastConnectedAt: string | null
  /** Number of rules with an action on this connector. */
  ruleCount: number
  /** Totals of the rule actions sending through this connector (since start). */
  metrics: {
    matched: number
    success: number
    failed: number
    dropped: number
    queuing: number
    inflight: number
    retried: number
    /** Messages per second over the last 10 s. */
    rate: {
      success: number
      failed: number
      dropped: number
    }
    lastSuccessAt: string | null
    lastError: string | null
    /** Details only: messages per second over the last minute, oldest first. */
    series?: {
      success: Array<number>
      failed: Array<number>
      dropped: Array<number>
    }
  }
  /** Whether deliveries through this connector arrive, from its actions' health (see docs/rules.md, Health). */
  delivery: {
    /** failing: an action sending through it fails its recent sends; stalled: messages wait and nothing was delivered for a while; ok otherwise (also when idle). Independent of status, which is about the connection. */
    state: ("ok" | "failing" | "stalled")
    /** Not ok: the message of the first failing (else stalled) action. */
    reason?: string
    /** failing: the ConnectorError code of that failure, e.g. INVALID_STATEMENT. */
    code?: string
    since?: string
    /** Rule actions (fallbacks included) through this connector that are failing. */
    failingActions: number
    /** Rule actions (fallbacks included) through this connector that are stalled. */
    stalledActions: number
  }
  createdAt: string
  updatedAt: string
  /** Per type: the fields of the type's configSchema (GET /api/v1/connector-types), every one with defaults filled in; secrets as "******". */
  config: {
    [key: string]: unknown
  }
  /** Rules that use this connector. */
  rules: Array<{
    id: string
    name: string
  }>
}

/** The Test: ok with latency, or the failing step and an error code with a hint. */
export type ProbeResult = {
  ok: boolean
  latencyMs?: number
  error?: {
    code: string
    message: string
    hint: string
  }
  steps: Array<{
    name: string
    ok: boolean
    ms: number
    detail?: string
  }>
}

export type HistoryVersion = {
  /** Counts from 1 per object; a connector's is its `version` after that change. */
  version: number
  at: string
  actor: {
    /** `user` (console login), `api_key`, or `system` (made before history existed, or by Junction itself). */
    kind: string
    name: string
  }
  /** The client address the change came from (empty for `system`). */
  source: string
  /** `create`, `update`, `revert`, `enable`, `disable` (rules), or `baseline` (the state when history began). */
  action: string
  /** A revert: the version it put back. */
  revertedFrom?: number
  /** Changed fields against the version before (`config.host`, `sql`, `actions.0.params.sql`); secrets are `******` (a changed secret shows as `******` on both sides); null for the first version kept. */
  diff: Array<{
    path: string
    before?: unknown
    after?: unknown
  }> | null
}

export type ConnectorVersion = {
  /** Counts from 1 per object; a connector's is its `version` after that change. */
  version: number
  at: string
  actor: {
    /** `user` (console login), `api_key`, or `system` (made before history existed, or by Junction itself). */
    kind: string
    name: string
  }
  /** The client address the change came from (empty for `system`). */
  source: string
  /** `create`, `update`, `revert`, `enable`, `disable` (rules), or `baseline` (the state when history began). */
  action: string
  /** A revert: the version it put back. */
  revertedFrom?: number
  /** Changed fields against the version before (`config.host`, `sql`, `actions.0.params.sql`); secrets are `******` (a changed secret shows as `******` on both sides); null for the first version kept. */
  diff: Array<{
    path: string
    before?: unknown
    after?: unknown
  }> | null
  /** The connector as it was in this version. */
  config: {
    name: string
    description: string
    enabled: boolean
    /** The connector's config then, per its type's configSchema; secrets as "******". */
    config: {
      [key: string]: unknown
    }
  }
}

export type Rule = {
  id: string
  deploymentId: string
  name: string
  sql: string
  description: string
  enabled: boolean
  actions: Array<{
    /** Send through this connector (same deployment). Give this or `builtin`. */
    connectorId?: string
    /** A built-in action by name (`republish`). Give this or `connectorId`. */
    builtin?: string
    /** Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params. */
    params: {
      [key: string]: unknown
    }
    options?: {
      /** Messages per request (default: the connector type's, e.g. 100 for PostgreSQL). */
      batchSize?: number
      /** The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits. */
      batchTimeMs?: number
      /** Requests in flight at once (default 100). */
      inflightWindow?: number
      /** A message not delivered this long after it was queued is dropped as expired (default 45 s). */
      requestTtlMs?: number
      /** Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB). */
      maxBufferBytes?: number
      /** Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false). */
      diskBuffer?: boolean
      /** When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md). */
      acknowledge?: "on-arrival" | "on-delivery"
      /** Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false). */
      keepFailed?: boolean
      /** Most failed messages kept; beyond it the oldest go, counted (default 10000). */
      keepFailedMaxMessages?: number
      /** Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB). */
      keepFailedMaxBytes?: number
    }
    /** Gets the messages the action finally fails or drops as expired; an action without its own fallback, and without keepFailed. */
    fallback?: {
      /** Send through this connector (same deployment). Give this or `builtin`. */
      connectorId?: string
      /** A built-in action by name (`republish`). Give this or `connectorId`. */
      builtin?: string
      /** Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params. */
      params: {
        [key: string]: unknown
      }
      options?: {
        /** Messages per request (default: the connector type's, e.g. 100 for PostgreSQL). */
        batchSize?: number
        /** The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits. */
        batchTimeMs?: number
        /** Requests in flight at once (default 100). */
        inflightWindow?: number
        /** A message not delivered this long after it was queued is dropped as expired (default 45 s). */
        requestTtlMs?: number
        /** Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB). */
        maxBufferBytes?: number
        /** Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false). */
        diskBuffer?: boolean
        /** When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md). */
        acknowledge?: "on-arrival" | "on-delivery"
        /** Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false). */
        keepFailed?: boolean
        /** Most failed messages kept; beyond it the oldest go, counted (default 10000). */
        keepFailedMaxMessages?: number
        /** Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB). */
        keepFailedMaxBytes?: number
      }
    }
  }>
  /** rule: matched, passed, failed, noResult, rate, actions {total, success, failed, discarded}; per action success, failed, dropped (by reason), queuing, inflight, retried, rate, lastError, lastErrorCode, lastSuccessAt, health {state (ok|failing|stalled), code?, message?, since?}. null while the rule is not running. */
  metrics: {
    rule: {
      /** With `?series=true` only. */
      series?: {
        /** The last minute, one point per second, oldest first. */
        matched: Array<number>
      }
      /** passed + noResult + failed. */
      matched: number
      passed: number
      /** Matched the topic, filtered out by WHERE. */
      noResult: number
      /** The SQL failed on the message. */
      failed: number
      rate: {
        /** Messages per second over the last 10 s. */
        matched: number
      }
      lastError: string | null
      /** The rule's actions taken together (fallbacks not counted). */
      actions: {
        /** Outputs handed to the actions (one per output and action). */
        total: number
        success: number
        failed: number
        /** Dropped: queue full, expired or stopped. */
        discarded: number
      }
    }
    /** Per action, in the order of the rule's actions. */
    actions: Array<{
      /** With `?series=true` only. */
      series?: {
        /** The last minute, one point per second, oldest first. */
        success: Array<number>
        /** The last minute, one point per second, oldest first. */
        failed: Array<number>
        /** The last minute, one point per second, oldest first. */
        dropped: Array<number>
      }
      /** Outputs handed to the action: success + failed + dropped + queuing + inflight. */
      matched: number
      success: number
      /** Failed for good (a permanent error). */
      failed: number
      retried: number
      /** queue_full + expired + stopped. */
      dropped: number
      droppedByReason: {
        queue_full: number
        expired: number
        stopped: number
      }
      queuing: number
      inflight: number
      rate: {
        /** Messages per second over the last 10 s. */
        success: number
        /** Messages per second over the last 10 s. */
        failed: number
        /** Messages per second over the last 10 s. */
        dropped: number
      }
      lastError: string | null
      /** A connector error code (docs/errors.md). */
      lastErrorCode: string | null
      lastErrorAt: string | null
      lastSuccessAt: string | null
      health: {
        /** From what the action delivered (docs/rules.md, "Health"). */
        state: ("ok" | "failing" | "stalled")
        /** failing: the connector error code of the latest failure. */
        code?: string
        /** failing: the latest failure; stalled: how many wait and for how long. */
        message?: string
        /** When the failures began, or since when nothing was delivered. */
        since?: string
      }
      /** The fallback action's counters. */
      fallback?: {
        /** With `?series=true` only. */
        series?: {
          /** The last minute, one point per second, oldest first. */
          success: Array<number>
          /** The last minute, one point per second, oldest first. */
          failed: Array<number>
          /** The last minute, one point per second, oldest first. */
          dropped: Array<number>
        }
        /** Outputs handed to the action: success + failed + dropped + queuing + inflight. */
        matched: number
        success: number
        /** Failed for good (a permanent error). */
        failed: number
        retried: number
        /** queue_full + expired + stopped. */
        dropped: number
        droppedByReason: {
          queue_full: number
          expired: number
          stopped: number
        }
        queuing: number
        inflight: number
        rate: {
          /** Messages per second over the last 10 s. */
          success: number
          /** Messages per second over the last 10 s. */
          failed: number
          /** Messages per second over the last 10 s. */
          dropped: number
        }
        lastError: string | null
        /** A connector error code (docs/errors.md). */
        lastErrorCode: string | null
        lastErrorAt: string | null
        lastSuccessAt: string | null
        health: {
          /** From what the action delivered (docs/rules.md, "Health"). */
          state: ("ok" | "failing" | "stalled")
          /** failing: the connector error code of the latest failure. */
          code?: string
          /** failing: the latest failure; stalled: how many wait and for how long. */
          message?: string
          /** When the failures began, or since when nothing was delivered. */
          since?: string
        }
      }
      /** With keepFailed: the failed-message store (GET .../failed-messages). */
      failedMessages?: {
        stored: number
        bytes: number
        evicted: number
        maxMessages: number
        maxBytes: number
      }
    }>
  } | null
  /** The rule's counters on each node that is up and runs it, the answering node first (one entry on a single node; none while it runs nowhere). Other nodes' as of their last heartbeat (1 s). See docs/cluster.md. */
  nodes: Array<{
    node: string
    matched: number
    passed: number
    noResult: number
    failed: number
    actions: {
      total: number
      success: number
      failed: number
      discarded: number
    }
    /** Each action's counters and health on that node, in the order of `actions` (`metrics.actions` there, in short); empty from a node of an earlier version. */
    perAction: Array<{
      /** Outputs handed to the action (its part of `actions.total`). */
      matched: number
      success: number
      failed: number
      /** Queue full, expired or stopped (its part of `actions.discarded`). */
      dropped: number
      queuing: number
      inflight: number
      retried: number
      /** Its delivery health (docs/rules.md, Health); in `totals`, the worst of the nodes'. */
      health: ("ok" | "failing" | "stalled")
      /** Its fallback's counters, when it has one. */
      fallback?: {
        /** Outputs handed to the action (its part of `actions.total`). */
        matched: number
        success: number
        failed: number
        /** Queue full, expired or stopped (its part of `actions.discarded`). */
        dropped: number
        queuing: number
        inflight: number
        retried: number
        /** Its delivery health (docs/rules.md, Health); in `totals`, the worst of the nodes'. */
        health: ("ok" | "failing" | "stalled")
      }
    }>
  }>
  /** The sum of `nodes`. */
  totals: {
    matched: number
    passed: number
    noResult: number
    failed: number
    actions: {
      total: number
      success: number
      failed: number
      discarded: number
    }
    /** Each action's counters added up over `nodes`, one entry per action of `actions`; health the worst of the nodes'. */
    perAction: Array<{
      /** Outputs handed to the action (its part of `actions.total`). */
      matched: number
      success: number
      failed: number
      /** Queue full, expired or stopped (its part of `actions.discarded`). */
      dropped: number
      queuing: number
      inflight: number
      retried: number
      /** Its delivery health (docs/rules.md, Health); in `totals`, the worst of the nodes'. */
      health: ("ok" | "failing" | "stalled")
      /** Its fallback's counters, when it has one. */
      fallback?: {
        /** Outputs handed to the action (its part of `actions.total`). */
        matched: number
        success: number
        failed: number
        /** Queue full, expired or stopped (its part of `actions.discarded`). */
        dropped: number
        queuing: number
        inflight: number
        retried: number
        /** Its delivery health (docs/rules.md, Health); in `totals`, the worst of the nodes'. */
        health: ("ok" | "failing" | "stalled")
      }
    }>
  }
  createdAt: string
  updatedAt: string
  /** On create and update (when actions are sent): actions that could not be checked against their resource (connector not connected, no answer in time) and what the checks noted. The rule is saved either way. */
  warnings?: Array<{
    /** The field: `actions.0`, `actions.1.params.topic`. */
    path: string
    /** The connector's error or status code, when there is one. */
    code?: string
    message: string
  }>
}

export type RuleVersion = {
  /** Counts from 1 per object; a connector's is its `version` after that change. */
  version: number
  at: string
  actor: {
    /** `user` (console login), `api_key`, or `system` (made before history existed, or by Junction itself). */
    kind: string
    name: string
  }
  /** The client address the change came from (empty for `system`). */
  source: string
  /** `create`, `update`, `revert`, `enable`, `disable` (rules), or `baseline` (the state when history began). */
  action: string
  /** A revert: the version it put back. */
  revertedFrom?: number
  /** Changed fields against the version before (`config.host`, `sql`, `actions.0.params.sql`); secrets are `******` (a changed secret shows as `******` on both sides); null for the first version kept. */
  diff: Array<{
    path: string
    before?: unknown
    after?: unknown
  }> | null
  /** The rule as it was in this version. */
  config: {
    name: string
    sql: string
    description: string
    enabled: boolean
    actions: Array<{
      /** Send through this connector (same deployment). Give this or `builtin`. */
      connectorId?: string
      /** A built-in action by name (`republish`). Give this or `connectorId`. */
      builtin?: string
      /** Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params. */
      params: {
        [key: string]: unknown
      }
      options?: {
        /** Messages per request (default: the connector type's, e.g. 100 for PostgreSQL). */
        batchSize?: number
        /** The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits. */
        batchTimeMs?: number
        /** Requests in flight at once (default 100). */
        inflightWindow?: number
        /** A message not delivered this long after it was queued is dropped as expired (default 45 s). */
        requestTtlMs?: number
        /** Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB). */
        maxBufferBytes?: number
        /** Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false). */
        diskBuffer?: boolean
        /** When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md). */
        acknowledge?: "on-arrival" | "on-delivery"
        /** Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false). */
        keepFailed?: boolean
        /** Most failed messages kept; beyond it the oldest go, counted (default 10000). */
        keepFailedMaxMessages?: number
        /** Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB). */
        keepFailedMaxBytes?: number
      }
      /** Gets the messages the action finally fails or drops as expired; an action without its own fallback, and without keepFailed. */
      fallback?: {
        /** Send through this connector (same deployment). Give this or `builtin`. */
        connectorId?: string
        /** A built-in action by name (`republish`). Give this or `connectorId`. */
        builtin?: string
        /** Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params. */
        params: {
          [key: string]: unknown
        }
        options?: {
          /** Messages per request (default: the connector type's, e.g. 100 for PostgreSQL). */
          batchSize?: number
          /** The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits. */
          batchTimeMs?: number
          /** Requests in flight at once (default 100). */
          inflightWindow?: number
          /** A message not delivered this long after it was queued is dropped as expired (default 45 s). */
          requestTtlMs?: number
          /** Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB). */
          maxBufferBytes?: number
          /** Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false). */
          diskBuffer?: boolean
          /** When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md). */
          acknowledge?: "on-arrival" | "on-delivery"
          /** Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false). */
          keepFailed?: boolean
          /** Most failed messages kept; beyond it the oldest go, counted (default 10000). */
          keepFailedMaxMessages?: number
          /** Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB). */
          keepFailedMaxBytes?: number
        }
      }
    }>
  }
}

/** A device user of the deployment's broker; the password is never returned. */
export type DeviceUser = {
  username: string
  superuser: boolean
  createdAt: string
  /** Last change of password or superuser. */
  updatedAt: string
}

/** Who may publish and subscribe to what on this deployment's broker. Superusers skip it. */
export type MqttAcl = {
  rules: Array<{
    /** Whom the rule is for: "all", {"username": "..."} or {"clientid": "..."}. */
    who: ("all" | {
      username: string
    } | {
      clientid: string
    })
    /** What the rule is about. */
    action: ("publish" | "subscribe" | "all")
    /** MQTT topic filter ("+" one level, "#" the rest); ${username} and ${clientid} are replaced by the client's (a rule whose placeholder the client cannot fill does not apply to it); "eq " before a filter matches that text literally (e.g. "eq #" is only the subscription to "#"). For a subscription, an allow rule applies when its filter covers the whole subscription filter, a deny rule as soon as they share a topic. */
    topic: string
    permission: ("allow" | "deny")
  }>
  default: ("allow" | "deny")
  /** Last save; null while the ACL is the built-in default (no rules, allow). */
  updatedAt: string | null
}

/** A console user; the password is never returned. */
export type ConsoleUser = {
  username: string
  /** `admin`: everything; `editor`: connectors, rules, device users/ACLs, failed messages, start/stop; `viewer`: read only (secrets masked). See docs/api.md, "Roles". */
  role: ("admin" | "editor" | "viewer")
  createdAt: string
  updatedAt: string
}

/** An API key; its secret is answered only when the key is made. */
export type ApiKey = {
  key: string
  /** `admin`: everything; `editor`: connectors, rules, device users/ACLs, failed messages, start/stop; `viewer`: read only (secrets masked). See docs/api.md, "Roles". */
  role: ("admin" | "editor" | "viewer")
  description: string
  createdAt: string
}

export type AuditEntry = {
  /** Sorts in the order entries were written; pass it as `after` for the next page. */
  id: string
  at: string
  actor: {
    /** `user` (console login) or `api_key`. */
    kind: string
    name: string
  }
  /** The client address the change came from. */
  source: string
  method: string
  path: string
  /** `create`, `update`, `delete`, or the verb of the route (`start`, `stop`, `enable`, `disable`, `replay`, `discard`). */
  action: string
  /** `deployment`, `connector`, `rule`, `failed-message`, `device-user`, `device-acl`, `user`, `api-key`. */
  objectType: string
  objectId: string | null
  deploymentId: string | null
  /** The HTTP status the change answered. */
  status: number
  /** Changed fields (`config.host`, `actions.0.params.sql`) with the value before and after; secrets are `******`. */
  diff: Array<{
    path: string
    before?: unknown
    after?: unknown
  }> | null
}

export type ImportPlan = {
  items: Array<{
    kind: ("deployment" | "connector" | "rule" | "mqttUser" | "mqttAcl")
    deployment: string
    /** The object's ID (username for device users; the deployment ID for its ACL). */
    id: string
    name: string
    action: ("create" | "update" | "unchanged" | "delete")
    /** Updates: each changed field; secrets as "******". */
    changes?: Array<{
      path: string
      from?: unknown
      to?: unknown
    }>
  }>
  summary: {
    create: number
    update: number
    unchanged: number
    delete: number
  }
  /** EMQX import: what could not become a Junction object, and why. */
  unmapped?: Array<{
    kind: string
    name: string
    reason: string
  }>
}

/** GET /api/v1/health: Liveness (no authentication) */
export type GetHealthResponse = {
  status: "ok"
  version: string
  uptimeS: number
}

/** POST /api/v1/login: Log in as a console user; answers a bearer token that expires */
export type PostLoginBody = {
  username: string
  password: string
}

/** POST /api/v1/login: Log in as a console user; answers a bearer token that expires */
export type PostLoginResponse = {
  token: string
  expiresAt: string
  username: string
  /** What the user may do: see docs/api.md, "Roles". */
  role?: ("admin" | "editor" | "viewer")
}

/** GET /api/v1/me: Who is calling: the console user or API key of these credentials, and its role */
export type GetMeResponse = {
  /** The console user name or the API key. */
  name: string
  kind: ("user" | "api_key")
  /** What the caller may do: see docs/api.md, "Roles". Read per request, so a changed role shows at once. */
  role: ("admin" | "editor" | "viewer")
}

/** GET /api/v1/connector-types: Connector types with the JSON Schemas of their config and action params */
export type GetConnectorTypesResponse = {
  data: Array<{
    type: string
    title: string
    summary: string
    /** JSON Schema: defaults, descriptions; secret fields have writeOnly: true. */
    configSchema: {
      [key: string]: unknown
    }
    /** JSON Schema of a rule action's params on this type. */
    paramsSchema: {
      [key: string]: unknown
    }
  }>
}

/** GET /api/v1/deployments: List deployments */
export type GetDeploymentsResponse = {
  data: Array<Deployment>
}

/** POST /api/v1/deployments: Create a deployment (optionally with broker settings in `mqtt`, or attached to an external broker with `broker`); its broker starts at once */
export type PostDeploymentsBody = {
  /** Display name; unique within its scope. */
  name: string
  /** Editing connectors needs dedicated or premium. */
  plan?: ("serverless" | "dedicated" | "premium")
  /** MQTT listener port; null picks the first free one from 1883. */
  mqttPort?: number | null
  /** Broker settings to change; fields left out keep their value. allowAnonymous and limits apply without a restart. */
  mqtt?: {
    /** Clients without a username, or with a username that is not a device user, may connect as anonymous. A device user always needs its password. Default false; JUNCTION_MQTT_ALLOW_ANONYMOUS sets it for `default` at every start. */
    allowAnonymous?: boolean
    /** Largest MQTT packet accepted and sent, in bytes (default 1048576). */
    maxPacketSize?: number
    /** Concurrent client connections; null = no limit. */
    maxConnections?: number | null
    /** MQTT 5 Server Keep Alive in seconds, imposed on clients asking for more or none; null = off. */
    serverKeepAlive?: number | null
    /** QoS 1/2 messages sent to one client and not yet acknowledged (default 32). */
    maxInflight?: number
    /** Messages queued per session beyond its inflight window (default 1000). */
    maxQueuedMessages?: number
    /** Upper bound of a session expiry interval, in seconds (default 7200). */
    maxSessionExpiry?: number
    /** Messages one client may publish per second; null = no limit. */
    maxMessageRate?: number | null
    /** New connections the deployment accepts per second; null = no limit. */
    maxConnectionRate?: number | null
    listeners?: {
      tls?: {
        enabled?: boolean
        /** Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken. */
        port?: number | null
      }
      ws?: {
        enabled?: boolean
        /** Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken. */
        port?: number | null
        /** HTTP path of the WebSocket endpoint, starting with "/" (default /mqtt). */
        path?: string
      }
      wss?: {
        enabled?: boolean
        /** Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken. */
        port?: number | null
        /** HTTP path of the WebSocket endpoint, starting with "/" (default /mqtt). */
        path?: string
      }
    }
    /** Both or neither: the key must belong to the certificate. */
    tls?: {
      /** Server certificate (PEM) for the TLS and WSS listeners; null = a self-signed one generated once per data dir. */
      certificate?: string | null
      /** Private key (PEM, unencrypted) of the certificate. Secret: encrypted at rest, shown as "******"; sending "******" keeps the stored key. */
      key?: string | null
    }
  }
  /** Which broker the deployment uses. Sent whole: fields left out take their defaults; "******" keeps a stored secret. */
  broker?: {
    /** `embedded`: the deployment runs its own MQTT broker (mqttPort, mqtt). `external`: it attaches as a client to an existing MQTT broker (docs/external-broker.md). */
    mode: ("embedded" | "external")
    /** External: the broker's addresses (a cluster's nodes). Each Junction node starts at the one its node name picks, tries the others in turn when it is lost, and goes back to it once it answers (docs/cluster.md). Without a port: 1883, or 8883 with TLS. Required with mode external. */
    servers?: Array<string>
    /** External: client ID = prefix + node name + "-" + deployment ID, so every Junction node and deployment has its own session on the broker. */
    clientIdPrefix: string
    /** External: user name sent in CONNECT. Leave it out for anonymous access. */
    username?: string
    /** External: password sent in CONNECT; needs a username. */
    password?: string
    /** External: MQTT 5 (5) or 3.1.1 (4). With 5 a message that Junction could not take is acknowledged with a failure reason code. */
    protocolVersion: (5 | 4)
    /** TLS settings. */
    tls: {
      /** Connect over TLS. */
      enable: boolean
      /** Verify the server's certificate and host name. Turn off only for a self-signed server you trust. */
      verify: boolean
      /** PEM CA certificate(s) to trust instead of the system store. */
      caCert?: string
      /** PEM client certificate, for servers that require mutual TLS. */
      clientCert?: string
      /** PEM private key of the client certificate. */
      clientKey?: string
      /** Server name (SNI) to send and verify; defaults to the host. */
      serverName?: string
    }
    /** External: topic filters to subscribe. Left out: the FROM topics of the deployment's rules, kept in step as rules change (recommended). */
    topics?: Array<string>
    /** External: subscribe as $share/<group>/<filter>, so each message goes to one Junction node of the group. null: plain subscriptions (every node gets every message). */
    sharedGroup: string | null
    /** External: QoS of the subscriptions. With 1 or 2 a message is acknowledged to the broker only once Junction took it (docs/external-broker.md). */
    qos: (0 | 1 | 2)
    /** External: MQTT keep alive in seconds. */
    keepaliveS: number
    /** External: how long the broker keeps the session (subscriptions and QoS 1/2 messages) while Junction is away; MQTT 5 Session Expiry Interval. 3.1.1 sessions (clean session false) last as the broker decides. */
    sessionExpiryS: number
    /** External: how long opening a connection (TCP, TLS and CONNECT) may take. */
    connectTimeoutMs: number
  }
}

/** POST /api/v1/deployments: Create a deployment (optionally with broker settings in `mqtt`, or attached to an external broker with `broker`); its broker starts at once */
export type PostDeploymentsResponse = Deployment

/** GET /api/v1/deployments/{dep}: Get a deployment */
export interface GetDeploymentsDepParams {
  dep: string
}

/** GET /api/v1/deployments/{dep}: Get a deployment */
export type GetDeploymentsDepResponse = Deployment

/** PATCH /api/v1/deployments/{dep}: Rename, change plan, MQTT port (a running broker moves to the new port), broker settings (`mqtt`: only the fields sent change) or which broker (`broker`, sent whole: the deployment attaches anew) */
export interface PatchDeploymentsDepParams {
  dep: string
}

/** PATCH /api/v1/deployments/{dep}: Rename, change plan, MQTT port (a running broker moves to the new port), broker settings (`mqtt`: only the fields sent change) or which broker (`broker`, sent whole: the deployment attaches anew) */
export type PatchDeploymentsDepBody = {
  /** Display name; unique within its scope. */
  name?: string
  /** Editing connectors needs dedicated or premium. */
  plan?: ("serverless" | "dedicated" | "premium")
  /** MQTT listener port; null picks the first free one from 1883. */
  mqttPort?: number | null
  /** Broker settings to change; fields left out keep their value. allowAnonymous and limits apply without a restart. */
  mqtt?: {
    /** Clients without a username, or with a username that is not a device user, may connect as anonymous. A device user always needs its password. Default false; JUNCTION_MQTT_ALLOW_ANONYMOUS sets it for `default` at every start. */
    allowAnonymous?: boolean
    /** Largest MQTT packet accepted and sent, in bytes (default 1048576). */
    maxPacketSize?: number
    /** Concurrent client connections; null = no limit. */
    maxConnections?: number | null
    /** MQTT 5 Server Keep Alive in seconds, imposed on clients asking for more or none; null = off. */
    serverKeepAlive?: number | null
    /** QoS 1/2 messages sent to one client and not yet acknowledged (default 32). */
    maxInflight?: number
    /** Messages queued per session beyond its inflight window (default 1000). */
    maxQueuedMessages?: number
    /** Upper bound of a session expiry interval, in seconds (default 7200). */
    maxSessionExpiry?: number
    /** Messages one client may publish per second; null = no limit. */
    maxMessageRate?: number | null
    /** New connections the deployment accepts per second; null = no limit. */
    maxConnectionRate?: number | null
    listeners?: {
      tls?: {
        enabled?: boolean
        /** Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken. */
        port?: number | null
      }
      ws?: {
        enabled?: boolean
        /** Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken. */
        port?: number | null
        /** HTTP path of the WebSocket endpoint, starting with "/" (default /mqtt). */
        path?: string
      }
      wss?: {
        enabled?: boolean
        /** Port; null = the transport's default (TLS 8883, WS 8083, WSS 8084), the next free one when taken. */
        port?: number | null
        /** HTTP path of the WebSocket endpoint, starting with "/" (default /mqtt). */
        path?: string
      }
    }
    /** Both or neither: the key must belong to the certificate. */
    tls?: {
      /** Server certificate (PEM) for the TLS and WSS listeners; null = a self-signed one generated once per data dir. */
      certificate?: string | null
      /** Private key (PEM, unencrypted) of the certificate. Secret: encrypted at rest, shown as "******"; sending "******" keeps the stored key. */
      key?: string | null
    }
  }
  /** Which broker the deployment uses. Sent whole: fields left out take their defaults; "******" keeps a stored secret. */
  broker?: {
    /** `embedded`: the deployment runs its own MQTT broker (mqttPort, mqtt). `external`: it attaches as a client to an existing MQTT broker (docs/external-broker.md). */
    mode: ("embedded" | "external")
    /** External: the broker's addresses (a cluster's nodes). Each Junction node starts at the one its node name picks, tries the others in turn when it is lost, and goes back to it once it answers (docs/cluster.md). Without a port: 1883, or 8883 with TLS. Required with mode external. */
    servers?: Array<string>
    /** External: client ID = prefix + node name + "-" + deployment ID, so every Junction node and deployment has its own session on the broker. */
    clientIdPrefix: string
    /** External: user name sent in CONNECT. Leave it out for anonymous access. */
    username?: string
    /** External: password sent in CONNECT; needs a username. */
    password?: string
    /** External: MQTT 5 (5) or 3.1.1 (4). With 5 a message that Junction could not take is acknowledged with a failure reason code. */
    protocolVersion: (5 | 4)
    /** TLS settings. */
    tls: {
      /** Connect over TLS. */
      enable: boolean
      /** Verify the server's certificate and host name. Turn off only for a self-signed server you trust. */
      verify: boolean
      /** PEM CA certificate(s) to trust instead of the system store. */
      caCert?: string
      /** PEM client certificate, for servers that require mutual TLS. */
      clientCert?: string
      /** PEM private key of the client certificate. */
      clientKey?: string
      /** Server name (SNI) to send and verify; defaults to the host. */
      serverName?: string
    }
    /** External: topic filters to subscribe. Left out: the FROM topics of the deployment's rules, kept in step as rules change (recommended). */
    topics?: Array<string>
    /** External: subscribe as $share/<group>/<filter>, so each message goes to one Junction node of the group. null: plain subscriptions (every node gets every message). */
    sharedGroup: string | null
    /** External: QoS of the subscriptions. With 1 or 2 a message is acknowledged to the broker only once Junction took it (docs/external-broker.md). */
    qos: (0 | 1 | 2)
    /** External: MQTT keep alive in seconds. */
    keepaliveS: number
    /** External: how long the broker keeps the session (subscriptions and QoS 1/2 messages) while Junction is away; MQTT 5 Session Expiry Interval. 3.1.1 sessions (clean session false) last as the broker decides. */
    sessionExpiryS: number
    /** External: how long opening a connection (TCP, TLS and CONNECT) may take. */
    connectTimeoutMs: number
  }
}

/** PATCH /api/v1/deployments/{dep}: Rename, change plan, MQTT port (a running broker moves to the new port), broker settings (`mqtt`: only the fields sent change) or which broker (`broker`, sent whole: the deployment attaches anew) */
export type PatchDeploymentsDepResponse = Deployment

/** DELETE /api/v1/deployments/{dep}: Delete an empty deployment */
export interface DeleteDeploymentsDepParams {
  dep: string
}

/** POST /api/v1/deployments/{dep}/start: Start the broker and the connectors */
export interface PostDeploymentsDepStartParams {
  dep: string
}

/** POST /api/v1/deployments/{dep}/start: Start the broker and the connectors */
export type PostDeploymentsDepStartResponse = Deployment

/** GET /api/v1/deployments/{dep}/mqtt/stats: The broker's figures now: connections, sessions, queues, messages, drops by reason (null while not running) */
export interface GetDeploymentsDepMqttStatsParams {
  dep: string
}

/** GET /api/v1/deployments/{dep}/mqtt/stats: The broker's figures now: connections, sessions, queues, messages, drops by reason (null while not running) */
export type GetDeploymentsDepMqttStatsResponse = {
  /** Clients connected now. */
  connections: number
  /** Sessions kept: connected, or persistent and waiting for their client. */
  sessions: number
  /** Subscriptions of all sessions. */
  subscriptions: number
  /** Retained messages. */
  retained: number
  /** Messages waiting in sessions' queues. */
  queued: number
  /** Messages written to subscribers and not yet acknowledged. */
  inflight: number
  /** PUBLISH packets received from clients since the broker started. */
  received: number
  /** Messages written to subscribers since the broker started. */
  sent: number
  /** Client messages no subscription took. */
  noSubscribers: number
  /** CONNECTs answered with a failure reason code. */
  connackRefused: number
  /** Messages lost for one subscriber, by reason (EMQX delivery_dropped reasons). */
  dropped: {
    /** Lost because the subscriber's queue was full (its oldest QoS 0 message goes first). */
    queue_full: number
    /** Expired (MQTT 5 Message Expiry Interval) before they could be sent. */
    expired: number
    /** Not sent back to their publisher (No Local). */
    no_local: number
    /** QoS 0 messages for a persistent session while it was offline. */
    qos0_msg: number
    /** Over the subscriber's Maximum Packet Size. */
    too_large: number
  }
} | null

/** POST /api/v1/deployments/{dep}/stop: Stop the connectors and the broker */
export interface PostDeploymentsDepStopParams {
  dep: string
}

/** POST /api/v1/deployments/{dep}/stop: Stop the connectors and the broker */
export type PostDeploymentsDepStopResponse = Deployment

/** GET /api/v1/deployments/{dep}/connectors: List connectors with live status and rule count */
export interface GetDeploymentsDepConnectorsParams {
  dep: string
}

/** GET /api/v1/deployments/{dep}/connectors: List connectors with live status and rule count */
export type GetDeploymentsDepConnectorsResponse = {
  data: Array<ConnectorSummary>
}

/** POST /api/v1/deployments/{dep}/connectors: Create a connector; it starts connecting at once */
export interface PostDeploymentsDepConnectorsParams {
  dep: string
}

/** POST /api/v1/deployments/{dep}/connectors: Create a connector; it starts connecting at once */
export type PostDeploymentsDepConnectorsBody = {
  /** Display name; unique within its scope. */
  name: string
  /** A type from GET /api/v1/connector-types. */
  type: string
  description?: string
  enabled?: boolean
  /** Validated against the type's config schema (GET /api/v1/connector-types). */
  config: {
    [key: string]: unknown
  }
}

/** POST /api/v1/deployments/{dep}/connectors: Create a connector; it starts connecting at once */
export type PostDeploymentsDepConnectorsResponse = ConnectorDetails

/** POST /api/v1/deployments/{dep}/connectors/test: Test an unsaved config: a real connection attempt with a bounded timeout */
export interface PostDeploymentsDepConnectorsTestParams {
  dep: string
}

/** POST /api/v1/deployments/{dep}/connectors/test: Test an unsaved config: a real connection attempt with a bounded timeout */
export type PostDeploymentsDepConnectorsTestBody = {
  type: string
  /** Validated against the type's config schema (GET /api/v1/connector-types). */
  config: {
    [key: string]: unknown
  }
}

/** POST /api/v1/deployments/{dep}/connectors/test: Test an unsaved config: a real connection attempt with a bounded timeout */
export type PostDeploymentsDepConnectorsTestResponse = ProbeResult

/** GET /api/v1/deployments/{dep}/connectors/{id}: Connector details: config with every default (secrets masked) and the rules using it */
export interface GetDeploymentsDepConnectorsIdParams {
  dep: string
  id: string
}

/** GET /api/v1/deployments/{dep}/connectors/{id}: Connector details: config with every default (secrets masked) and the rules using it */
export type GetDeploymentsDepConnectorsIdResponse = ConnectorDetails

/** PUT /api/v1/deployments/{dep}/connectors/{id}: Edit a connector (dedicated and premium plans); the live connection is swapped */
export interface PutDeploymentsDepConnectorsIdParams {
  dep: string
  id: string
}

/** PUT /api/v1/deployments/{dep}/connectors/{id}: Edit a connector (dedicated and premium plans); the live connection is swapped */
export type PutDeploymentsDepConnectorsIdBody = {
  /** Display name; unique within its scope. */
  name?: string
  description?: string
  enabled?: boolean
  /** The whole new config, per the type's configSchema (GET /api/v1/connector-types); a secret sent as "******" keeps the stored one. */
  config?: {
    [key: string]: unknown
  }
  /** The version you edited; a stale one is refused with 409. */
  version?: number
}

/** PUT /api/v1/deployments/{dep}/connectors/{id}: Edit a connector (dedicated and premium plans); the live connection is swapped */
export type PutDeploymentsDepConnectorsIdResponse = ConnectorDetails

/** DELETE /api/v1/deployments/{dep}/connectors/{id}: Delete a connector no rule uses; confirm by sending its ID as ?confirm= */
export interface DeleteDeploymentsDepConnectorsIdParams {
  dep: string
  id: string
}

/** GET /api/v1/deployments/{dep}/connectors/{id}/history: The connector's versions, newest first: who, when, from where, what changed (secrets masked) */
export interface GetDeploymentsDepConnectorsIdHistoryParams {
  dep: string
  id: string
}

/** GET /api/v1/deployments/{dep}/connectors/{id}/history: The connector's versions, newest first: who, when, from where, what changed (secrets masked) */
export type GetDeploymentsDepConnectorsIdHistoryResponse = {
  /** Newest first. */
  data: Array<HistoryVersion>
  /** Pass as `after` for the next page; absent on the last. */
  next?: string
}

/** GET /api/v1/deployments/{dep}/connectors/{id}/history/{version}: One version of the connector with its whole config then (secrets masked) */
export interface GetDeploymentsDepConnectorsIdHistoryVersionParams {
  dep: string
  id: string
  version: string
}

/** GET /api/v1/deployments/{dep}/connectors/{id}/history/{version}: One version of the connector with its whole config then (secrets masked) */
export type GetDeploymentsDepConnectorsIdHistoryVersionResponse = ConnectorVersion

/** POST /api/v1/deployments/{dep}/connectors/{id}/revert: Put back an earlier version (its real secrets included), as an edit: same plan rule and checks as PUT; recorded as a new version */
export interface PostDeploymentsDepConnectorsIdRevertParams {
  dep: string
  id: string
}

/** POST /api/v1/deployments/{dep}/connectors/{id}/revert: Put back an earlier version (its real secrets included), as an edit: same plan rule and checks as PUT; recorded as a new version */
export type PostDeploymentsDepConnectorsIdRevertBody = {
  /** The version to put back, from the history. */
  version: number
}

/** POST /api/v1/deployments/{dep}/connectors/{id}/revert: Put back an earlier version (its real secrets included), as an edit: same plan rule and checks as PUT; recorded as a new version */
export type PostDeploymentsDepConnectorsIdRevertResponse = ConnectorDetails

/** POST /api/v1/deployments/{dep}/connectors/{id}/test: Test a saved connector, or an edit of it before saving */
export interface PostDeploymentsDepConnectorsIdTestParams {
  dep: string
  id: string
}

/** POST /api/v1/deployments/{dep}/connectors/{id}/test: Test a saved connector, or an edit of it before saving */
export type PostDeploymentsDepConnectorsIdTestResponse = ProbeResult

/** GET /api/v1/action-types: The built-in actions with their params' JSON Schemas, and the JSON Schema of an action's options */
export type GetActionTypesResponse = {
  data: Array<{
    /** The `builtin` value of a rule action (`republish`). */
    builtin: string
    /** JSON Schema of its params: defaults, descriptions, bounds. */
    paramsSchema: {
      [key: string]: unknown
    }
  }>
  /** JSON Schema of every action's `options` (queue settings), connector or built-in. */
  optionsSchema: {
    [key: string]: unknown
  }
  /** JSON Schema of a fallback's `options`: the same without the keepFailed ones. */
  fallbackOptionsSchema: {
    [key: string]: unknown
  }
}

/** GET /api/v1/deployments/{dep}/rules: List rules with their metrics */
export interface GetDeploymentsDepRulesParams {
  dep: string
}

/** GET /api/v1/deployments/{dep}/rules: List rules with their metrics */
export type GetDeploymentsDepRulesResponse = {
  data: Array<Rule>
}

/** POST /api/v1/deployments/{dep}/rules: Create a rule: SQL plus actions through connectors */
export interface PostDeploymentsDepRulesParams {
  dep: string
}

/** POST /api/v1/deployments/{dep}/rules: Create a rule: SQL plus actions through connectors */
export type PostDeploymentsDepRulesBody = {
  name: string
  /** EMQX rule SQL, e.g. SELECT payload.temp AS t FROM "sensors/#" WHERE payload.temp > 20 */
  sql: string
  description?: string
  enabled?: boolean
  actions: Array<{
    /** Send through this connector (same deployment). Give this or `builtin`. */
    connectorId?: string
    /** A built-in action by name (`republish`). Give this or `connectorId`. */
    builtin?: string
    /** Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params. */
    params: {
      [key: string]: unknown
    }
    options?: {
      /** Messages per request (default: the connector type's, e.g. 100 for PostgreSQL). */
      batchSize?: number
      /** The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits. */
      batchTimeMs?: number
      /** Requests in flight at once (default 100). */
      inflightWindow?: number
      /** A message not delivered this long after it was queued is dropped as expired (default 45 s). */
      requestTtlMs?: number
      /** Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB). */
      maxBufferBytes?: number
      /** Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false). */
      diskBuffer?: boolean
      /** When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md). */
      acknowledge?: "on-arrival" | "on-delivery"
      /** Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false). */
      keepFailed?: boolean
      /** Most failed messages kept; beyond it the oldest go, counted (default 10000). */
      keepFailedMaxMessages?: number
      /** Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB). */
      keepFailedMaxBytes?: number
    }
    /** Gets the messages the action finally fails or drops as expired; an action without its own fallback, and without keepFailed. */
    fallback?: {
      /** Send through this connector (same deployment). Give this or `builtin`. */
      connectorId?: string
      /** A built-in action by name (`republish`). Give this or `connectorId`. */
      builtin?: string
      /** Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params. */
      params: {
        [key: string]: unknown
      }
      options?: {
        /** Messages per request (default: the connector type's, e.g. 100 for PostgreSQL). */
        batchSize?: number
        /** The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits. */
        batchTimeMs?: number
        /** Requests in flight at once (default 100). */
        inflightWindow?: number
        /** A message not delivered this long after it was queued is dropped as expired (default 45 s). */
        requestTtlMs?: number
        /** Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB). */
        maxBufferBytes?: number
        /** Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false). */
        diskBuffer?: boolean
        /** When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md). */
        acknowledge?: "on-arrival" | "on-delivery"
        /** Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false). */
        keepFailed?: boolean
        /** Most failed messages kept; beyond it the oldest go, counted (default 10000). */
        keepFailedMaxMessages?: number
        /** Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB). */
        keepFailedMaxBytes?: number
      }
    }
  }>
}

/** POST /api/v1/deployments/{dep}/rules: Create a rule: SQL plus actions through connectors */
export type PostDeploymentsDepRulesResponse = Rule

/** POST /api/v1/deployments/{dep}/rules/test: Run rule SQL on a sample event, with no side effects */
export interface PostDeploymentsDepRulesTestParams {
  dep: string
}

/** POST /api/v1/deployments/{dep}/rules/test: Run rule SQL on a sample event, with no side effects */
export type PostDeploymentsDepRulesTestBody = {
  /** EMQX rule SQL, e.g. SELECT payload.temp AS t FROM "sensors/#" WHERE payload.temp > 20 */
  sql: string
  /** Sample event: topic, payload (text or JSON), clientid, username, qos, ...; unset fields get sample values. */
  context: {
    [key: string]: unknown
  }
}

/** POST /api/v1/deployments/{dep}/rules/test: Run rule SQL on a sample event, with no side effects */
export type PostDeploymentsDepRulesTestResponse = {
  matched: boolean
  output?: {
    [key: string]: unknown
  }
  outputs?: Array<{
    [key: string]: unknown
  }>
  reason?: string
}

/** POST /api/v1/deployments/{dep}/rules/test-action: Send one sample output through an action on its live resource and report what the resource answered (optionally rolled back) */
export interface PostDeploymentsDepRulesTestActionParams {
  dep: string
}

/** POST /api/v1/deployments/{dep}/rules/test-action: Send one sample output through an action on its live resource and report what the resource answered (optionally rolled back) */
export type PostDeploymentsDepRulesTestActionBody = {
  /** One action as in a rule, without fallback: `{connectorId, params, options?}` or `{builtin, params}`. */
  action: {
    /** Send through this connector (same deployment). Give this or `builtin`. */
    connectorId?: string
    /** A built-in action by name (`republish`). Give this or `connectorId`. */
    builtin?: string
    /** Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params. */
    params: {
      [key: string]: unknown
    }
    options?: {
      /** Messages per request (default: the connector type's, e.g. 100 for PostgreSQL). */
      batchSize?: number
      /** The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits. */
      batchTimeMs?: number
      /** Requests in flight at once (default 100). */
      inflightWindow?: number
      /** A message not delivered this long after it was queued is dropped as expired (default 45 s). */
      requestTtlMs?: number
      /** Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB). */
      maxBufferBytes?: number
      /** Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false). */
      diskBuffer?: boolean
      /** When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md). */
      acknowledge?: "on-arrival" | "on-delivery"
      /** Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false). */
      keepFailed?: boolean
      /** Most failed messages kept; beyond it the oldest go, counted (default 10000). */
      keepFailedMaxMessages?: number
      /** Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB). */
      keepFailedMaxBytes?: number
    }
  }
  /** A rule output (the SELECT's result object) to send through the action, e.g. from the rule SQL test. */
  output: {
    [key: string]: unknown
  }
  /** Undo the delivery after the resource answered (a SQL transaction rolled back: PostgreSQL, MySQL). Other types answer 400. */
  rollback?: boolean
}

/** POST /api/v1/deployments/{dep}/rules/test-action: Send one sample output through an action on its live resource and report what the resource answered (optionally rolled back) */
export type PostDeploymentsDepRulesTestActionResponse = {
  /** The resource accepted the delivery. */
  ok: boolean
  /** From the start of the test to the answer, opening the action on the connection included. */
  durationMs: number
  /** The delivery was made and undone. */
  rolledBack: boolean
  error?: {
    /** A connector error code (docs/errors.md). */
    code: string
    message: string
    /** not_connected, retryable or permanent: what a rule would do with this message. */
    kind: string
    hint?: string
  }
}

/** GET /api/v1/deployments/{dep}/rules/{id}: Get a rule with its metrics */
export interface GetDeploymentsDepRulesIdParams {
  dep: string
  id: string
}

/** GET /api/v1/deployments/{dep}/rules/{id}: Get a rule with its metrics */
export type GetDeploymentsDepRulesIdResponse = Rule

/** PUT /api/v1/deployments/{dep}/rules/{id}: Change a rule; queued messages of the old version are still delivered */
export interface PutDeploymentsDepRulesIdParams {
  dep: string
  id: string
}

/** PUT /api/v1/deployments/{dep}/rules/{id}: Change a rule; queued messages of the old version are still delivered */
export type PutDeploymentsDepRulesIdBody = {
  name?: string
  /** EMQX rule SQL, e.g. SELECT payload.temp AS t FROM "sensors/#" WHERE payload.temp > 20 */
  sql?: string
  description?: string
  enabled?: boolean
  actions?: Array<{
    /** Send through this connector (same deployment). Give this or `builtin`. */
    connectorId?: string
    /** A built-in action by name (`republish`). Give this or `connectorId`. */
    builtin?: string
    /** Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params. */
    params: {
      [key: string]: unknown
    }
    options?: {
      /** Messages per request (default: the connector type's, e.g. 100 for PostgreSQL). */
      batchSize?: number
      /** The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits. */
      batchTimeMs?: number
      /** Requests in flight at once (default 100). */
      inflightWindow?: number
      /** A message not delivered this long after it was queued is dropped as expired (default 45 s). */
      requestTtlMs?: number
      /** Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB). */
      maxBufferBytes?: number
      /** Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false). */
      diskBuffer?: boolean
      /** When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md). */
      acknowledge?: "on-arrival" | "on-delivery"
      /** Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false). */
      keepFailed?: boolean
      /** Most failed messages kept; beyond it the oldest go, counted (default 10000). */
      keepFailedMaxMessages?: number
      /** Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB). */
      keepFailedMaxBytes?: number
    }
    /** Gets the messages the action finally fails or drops as expired; an action without its own fallback, and without keepFailed. */
    fallback?: {
      /** Send through this connector (same deployment). Give this or `builtin`. */
      connectorId?: string
      /** A built-in action by name (`republish`). Give this or `connectorId`. */
      builtin?: string
      /** Per target: a connector type's `paramsSchema` (GET /api/v1/connector-types) or a built-in action's params. */
      params: {
        [key: string]: unknown
      }
      options?: {
        /** Messages per request (default: the connector type's, e.g. 100 for PostgreSQL). */
        batchSize?: number
        /** The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits. */
        batchTimeMs?: number
        /** Requests in flight at once (default 100). */
        inflightWindow?: number
        /** A message not delivered this long after it was queued is dropped as expired (default 45 s). */
        requestTtlMs?: number
        /** Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB). */
        maxBufferBytes?: number
        /** Also keep the queue on disk, so queued messages survive a restart (at-least-once; default false). */
        diskBuffer?: boolean
        /** When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer (end-to-end; see docs/delivery.md). */
        acknowledge?: "on-arrival" | "on-delivery"
        /** Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped) in a failed-message store on disk, to look at, replay or discard (default false). */
        keepFailed?: boolean
        /** Most failed messages kept; beyond it the oldest go, counted (default 10000). */
        keepFailedMaxMessages?: number
        /** Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB). */
        keepFailedMaxBytes?: number
      }
    }
  }>
}

/** PUT /api/v1/deployments/{dep}/rules/{id}: Change a rule; queued messages of the old version are still delivered */
export type PutDeploymentsDepRulesIdResponse = Rule

/** DELETE /api/v1/deployments/{dep}/rules/{id}: Delete a rule */
export interface DeleteDeploymentsDepRulesIdParams {
  dep: string
  id: string
}

/** POST /api/v1/deployments/{dep}/rules/{id}/enable: Enable a rule */
export interface PostDeploymentsDepRulesIdEnableParams {
  dep: string
  id: string
}

/** POST /api/v1/deployments/{dep}/rules/{id}/enable: Enable a rule */
export type PostDeploymentsDepRulesIdEnableResponse = Rule

/** POST /api/v1/deployments/{dep}/rules/{id}/disable: Disable a rule */
export interface PostDeploymentsDepRulesIdDisableParams {
  dep: string
  id: string
}

/** POST /api/v1/deployments/{dep}/rules/{id}/disable: Disable a rule */
export type PostDeploymentsDepRulesIdDisableResponse = Rule

/** GET /api/v1/deployments/{dep}/rules/{id}/history: The rule's versions, newest first: who, when, from where, what changed */
export interface GetDeploymentsDepRulesIdHistoryParams {
  dep: string
  id: string
}

/** GET /api/v1/deployments/{dep}/rules/{id}/history: The rule's versions, newest first: who, when, from where, what changed */
export type GetDeploymentsDepRulesIdHistoryResponse = {
  /** Newest first. */
  data: Array<HistoryVersion>
  /** Pass as `after` for the next page; absent on the last. */
  next?: string
}

/** GET /api/v1/deployments/{dep}/rules/{id}/history/{version}: One version of the rule with its SQL and actions then */
export interface GetDeploymentsDepRulesIdHistoryVersionParams {
  dep: string
  id: string
  version: string
}

/** GET /api/v1/deployments/{dep}/rules/{id}/history/{version}: One version of the rule with its SQL and actions then */
export type GetDeploymentsDepRulesIdHistoryVersionResponse = RuleVersion

/** POST /api/v1/deployments/{dep}/rules/{id}/revert: Put back an earlier version of the rule, as an edit (same checks as PUT); recorded as a new version */
export interface PostDeploymentsDepRulesIdRevertParams {
  dep: string
  id: string
}

/** POST /api/v1/deployments/{dep}/rules/{id}/revert: Put back an earlier version of the rule, as an edit (same checks as PUT); recorded as a new version */
export type PostDeploymentsDepRulesIdRevertBody = {
  /** The version to put back, from the history. */
  version: number
}

/** POST /api/v1/deployments/{dep}/rules/{id}/revert: Put back an earlier version of the rule, as an edit (same checks as PUT); recorded as a new version */
export type PostDeploymentsDepRulesIdRevertResponse = Rule

/** GET /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages: List an action's failed messages (oldest first, paged) */
export interface GetDeploymentsDepRulesIdActionsIndexFailedMessagesParams {
  dep: string
  id: string
  index: string
}

/** GET /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages: List an action's failed messages (oldest first, paged) */
export type GetDeploymentsDepRulesIdActionsIndexFailedMessagesResponse = {
  /** The action's keepFailed option: whether it keeps failures now (messages kept earlier stay listed). */
  enabled: boolean
  /** Messages kept now. */
  stored: number
  /** Their size as JSON. */
  bytes: number
  /** Messages removed because the store was full, oldest first (since the store was created). */
  evicted: number
  maxMessages: number
  maxBytes: number
  /** Oldest first. */
  data: Array<{
    /** Failed message ID (a sequence number) */
    id: string
    /** When the action gave the message up. */
    at: string
    /** `failed`: a permanent error (see code and error); `expired`: not delivered within requestTtlMs; `queue_full`: pushed out of the queue by newer messages; `stopped`: queued when the deployment or Junction stopped (no disk buffer). */
    reason: ("failed" | "expired" | "queue_full" | "stopped")
    /** The connector error code (reason failed), e.g. UNDEFINED_TABLE. */
    code: string | null
    /** The resource's error message (reason failed). */
    error: string | null
    /** Sends tried, over replays too (0: it never reached the resource). */
    attempts: number
    /** Size of the message as JSON. */
    bytes: number
    /** The message as JSON, cut at 200 characters. */
    excerpt: string
  }>
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null
}

/** GET /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages/{messageId}: Show one failed message with its content */
export interface GetDeploymentsDepRulesIdActionsIndexFailedMessagesMessageIdParams {
  dep: string
  id: string
  index: string
  messageId: string
}

/** GET /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages/{messageId}: Show one failed message with its content */
export type GetDeploymentsDepRulesIdActionsIndexFailedMessagesMessageIdResponse = {
  /** Failed message ID (a sequence number) */
  id: string
  /** When the action gave the message up. */
  at: string
  /** `failed`: a permanent error (see code and error); `expired`: not delivered within requestTtlMs; `queue_full`: pushed out of the queue by newer messages; `stopped`: queued when the deployment or Junction stopped (no disk buffer). */
  reason: ("failed" | "expired" | "queue_full" | "stopped")
  /** The connector error code (reason failed), e.g. UNDEFINED_TABLE. */
  code: string | null
  /** The resource's error message (reason failed). */
  error: string | null
  /** Sends tried, over replays too (0: it never reached the resource). */
  attempts: number
  /** Size of the message as JSON. */
  bytes: number
  /** The rule output the action failed to deliver, as it would send it. */
  message: unknown
}

/** DELETE /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages/{messageId}: Discard one failed message */
export interface DeleteDeploymentsDepRulesIdActionsIndexFailedMessagesMessageIdParams {
  dep: string
  id: string
  index: string
  messageId: string
}

/** POST /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages/replay: Replay failed messages (some or all) through the action's queue; one that fails again comes back with its attempts counted on */
export interface PostDeploymentsDepRulesIdActionsIndexFailedMessagesReplayParams {
  dep: string
  id: string
  index: string
}

/** POST /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages/replay: Replay failed messages (some or all) through the action's queue; one that fails again comes back with its attempts counted on */
export type PostDeploymentsDepRulesIdActionsIndexFailedMessagesReplayBody = {
  /** The messages; leave out for all of them. */
  ids?: Array<string>
}

/** POST /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages/replay: Replay failed messages (some or all) through the action's queue; one that fails again comes back with its attempts counted on */
export type PostDeploymentsDepRulesIdActionsIndexFailedMessagesReplayResponse = {
  /** Messages handed to the action's queue (and removed from the store). */
  replayed: number
  /** IDs asked for that are not in the store. */
  notFound: Array<string>
}

/** POST /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages/discard: Discard failed messages (some or all) */
export interface PostDeploymentsDepRulesIdActionsIndexFailedMessagesDiscardParams {
  dep: string
  id: string
  index: string
}

/** POST /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages/discard: Discard failed messages (some or all) */
export type PostDeploymentsDepRulesIdActionsIndexFailedMessagesDiscardBody = {
  /** The messages; leave out for all of them. */
  ids?: Array<string>
}

/** POST /api/v1/deployments/{dep}/rules/{id}/actions/{index}/failed-messages/discard: Discard failed messages (some or all) */
export type PostDeploymentsDepRulesIdActionsIndexFailedMessagesDiscardResponse = {
  discarded: number
  notFound: Array<string>
}

/** GET /api/v1/deployments/{dep}/mqtt/users: List the device users (by username) */
export interface GetDeploymentsDepMqttUsersParams {
  dep: string
}

/** GET /api/v1/deployments/{dep}/mqtt/users: List the device users (by username) */
export type GetDeploymentsDepMqttUsersResponse = {
  data: Array<DeviceUser>
}

/** POST /api/v1/deployments/{dep}/mqtt/users: Add a device user; it can connect at once */
export interface PostDeploymentsDepMqttUsersParams {
  dep: string
}

/** POST /api/v1/deployments/{dep}/mqtt/users: Add a device user; it can connect at once */
export type PostDeploymentsDepMqttUsersBody = {
  /** The MQTT CONNECT username (no control characters). */
  username: string
  /** The MQTT CONNECT password; stored as a scrypt hash, never returned. */
  password: string
  /** A superuser may publish and subscribe to every topic, whatever the ACL says (EMQX is_superuser). */
  superuser?: boolean
}

/** POST /api/v1/deployments/{dep}/mqtt/users: Add a device user; it can connect at once */
export type PostDeploymentsDepMqttUsersResponse = DeviceUser

/** GET /api/v1/deployments/{dep}/mqtt/users/{username}: Get a device user */
export interface GetDeploymentsDepMqttUsersUsernameParams {
  dep: string
  username: string
}

/** GET /api/v1/deployments/{dep}/mqtt/users/{username}: Get a device user */
export type GetDeploymentsDepMqttUsersUsernameResponse = DeviceUser

/** PATCH /api/v1/deployments/{dep}/mqtt/users/{username}: Change a device user's password and/or superuser flag (applies to its next CONNECT) */
export interface PatchDeploymentsDepMqttUsersUsernameParams {
  dep: string
  username: string
}

/** PATCH /api/v1/deployments/{dep}/mqtt/users/{username}: Change a device user's password and/or superuser flag (applies to its next CONNECT) */
export type PatchDeploymentsDepMqttUsersUsernameBody = {
  /** The MQTT CONNECT password; stored as a scrypt hash, never returned. */
  password?: string
  /** A superuser may publish and subscribe to every topic, whatever the ACL says (EMQX is_superuser). */
  superuser?: boolean
}

/** PATCH /api/v1/deployments/{dep}/mqtt/users/{username}: Change a device user's password and/or superuser flag (applies to its next CONNECT) */
export type PatchDeploymentsDepMqttUsersUsernameResponse = DeviceUser

/** DELETE /api/v1/deployments/{dep}/mqtt/users/{username}: Delete a device user (its connected clients stay until they reconnect) */
export interface DeleteDeploymentsDepMqttUsersUsernameParams {
  dep: string
  username: string
}

/** GET /api/v1/deployments/{dep}/mqtt/login-stats: Device logins since start: successes, failures by username and by client address */
export interface GetDeploymentsDepMqttLoginStatsParams {
  dep: string
}

/** GET /api/v1/deployments/{dep}/mqtt/login-stats: Device logins since start: successes, failures by username and by client address */
export type GetDeploymentsDepMqttLoginStatsResponse = {
  /** Logins with a device user's username and password (since start). */
  succeeded: number
  /** Refused logins with a username: wrong password, or an unknown username while anonymous clients are refused. */
  failed: number
  /** Clients without a username refused because allowAnonymous is off. */
  anonymousRefused: number
  /** The 20 usernames with the most failures. */
  failedByUsername: Array<{
    username: string
    failures: number
    lastFailureAt: string
  }>
  /** The 20 client addresses with the most failures. */
  failedByPeerhost: Array<{
    peerhost: string
    failures: number
    lastFailureAt: string
  }>
}

/** GET /api/v1/deployments/{dep}/mqtt/acl: Get the ACL */
export interface GetDeploymentsDepMqttAclParams {
  dep: string
}

/** GET /api/v1/deployments/{dep}/mqtt/acl: Get the ACL */
export type GetDeploymentsDepMqttAclResponse = MqttAcl

/** PUT /api/v1/deployments/{dep}/mqtt/acl: Replace the ACL; connected clients are checked against it from their next publish or subscribe */
export interface PutDeploymentsDepMqttAclParams {
  dep: string
}

/** PUT /api/v1/deployments/{dep}/mqtt/acl: Replace the ACL; connected clients are checked against it from their next publish or subscribe */
export type PutDeploymentsDepMqttAclBody = {
  /** In order: the first rule that applies to a publish or subscribe decides. */
  rules: Array<{
    /** Whom the rule is for: "all", {"username": "..."} or {"clientid": "..."}. */
    who: ("all" | {
      username: string
    } | {
      clientid: string
    })
    /** What the rule is about. */
    action: ("publish" | "subscribe" | "all")
    /** MQTT topic filter ("+" one level, "#" the rest); ${username} and ${clientid} are replaced by the client's (a rule whose placeholder the client cannot fill does not apply to it); "eq " before a filter matches that text literally (e.g. "eq #" is only the subscription to "#"). For a subscription, an allow rule applies when its filter covers the whole subscription filter, a deny rule as soon as they share a topic. */
    topic: string
    permission: ("allow" | "deny")
  }>
  /** What happens when no rule applies. */
  default: ("allow" | "deny")
}

/** PUT /api/v1/deployments/{dep}/mqtt/acl: Replace the ACL; connected clients are checked against it from their next publish or subscribe */
export type PutDeploymentsDepMqttAclResponse = MqttAcl

/** GET /api/v1/users: List the console users */
export type GetUsersResponse = {
  data: Array<ConsoleUser>
}

/** POST /api/v1/users: Add a console user with a role */
export type PostUsersBody = {
  /** Letters, digits and `. _ @ -` (no colon: the name is the HTTP Basic user). */
  username: string
  /** At least 8 characters; stored as a scrypt hash, never returned. */
  password: string
  /** `admin`: everything; `editor`: connectors, rules, device users/ACLs, failed messages, start/stop; `viewer`: read only (secrets masked). See docs/api.md, "Roles". */
  role: ("admin" | "editor" | "viewer")
}

/** POST /api/v1/users: Add a console user with a role */
export type PostUsersResponse = ConsoleUser

/** GET /api/v1/users/{username}: One console user */
export interface GetUsersUsernameParams {
  username: string
}

/** GET /api/v1/users/{username}: One console user */
export type GetUsersUsernameResponse = ConsoleUser

/** PATCH /api/v1/users/{username}: Change a console user's password or role (takes effect on its next request) */
export interface PatchUsersUsernameParams {
  username: string
}

/** PATCH /api/v1/users/{username}: Change a console user's password or role (takes effect on its next request) */
export type PatchUsersUsernameBody = {
  /** At least 8 characters; stored as a scrypt hash, never returned. */
  password?: string
  /** `admin`: everything; `editor`: connectors, rules, device users/ACLs, failed messages, start/stop; `viewer`: read only (secrets masked). See docs/api.md, "Roles". */
  role?: ("admin" | "editor" | "viewer")
}

/** PATCH /api/v1/users/{username}: Change a console user's password or role (takes effect on its next request) */
export type PatchUsersUsernameResponse = ConsoleUser

/** DELETE /api/v1/users/{username}: Remove a console user; its sessions end at once */
export interface DeleteUsersUsernameParams {
  username: string
}

/** GET /api/v1/api-keys: List the API keys (never their secrets) */
export type GetApiKeysResponse = {
  data: Array<ApiKey>
}

/** POST /api/v1/api-keys: Make an API key; the answer has its secret, shown this once */
export type PostApiKeysBody = {
  /** The key name (the HTTP Basic user; letters, digits and `. _ @ -`); generated (`jk-...`) when left out. */
  key?: string
  /** `admin`: everything; `editor`: connectors, rules, device users/ACLs, failed messages, start/stop; `viewer`: read only (secrets masked). See docs/api.md, "Roles". */
  role: ("admin" | "editor" | "viewer")
  description?: string
}

/** POST /api/v1/api-keys: Make an API key; the answer has its secret, shown this once */
export type PostApiKeysResponse = {
  key: string
  /** Shown once: only its hash is stored. */
  secret: string
  /** `admin`: everything; `editor`: connectors, rules, device users/ACLs, failed messages, start/stop; `viewer`: read only (secrets masked). See docs/api.md, "Roles". */
  role: ("admin" | "editor" | "viewer")
  description: string
  createdAt: string
}

/** GET /api/v1/api-keys/{key}: One API key (not its secret) */
export interface GetApiKeysKeyParams {
  key: string
}

/** GET /api/v1/api-keys/{key}: One API key (not its secret) */
export type GetApiKeysKeyResponse = ApiKey

/** PATCH /api/v1/api-keys/{key}: Change an API key's role or description */
export interface PatchApiKeysKeyParams {
  key: string
}

/** PATCH /api/v1/api-keys/{key}: Change an API key's role or description */
export type PatchApiKeysKeyBody = {
  /** `admin`: everything; `editor`: connectors, rules, device users/ACLs, failed messages, start/stop; `viewer`: read only (secrets masked). See docs/api.md, "Roles". */
  role?: ("admin" | "editor" | "viewer")
  description?: string
}

/** PATCH /api/v1/api-keys/{key}: Change an API key's role or description */
export type PatchApiKeysKeyResponse = ApiKey

/** DELETE /api/v1/api-keys/{key}: Revoke an API key at once */
export interface DeleteApiKeysKeyParams {
  key: string
}

/** GET /api/v1/audit: Changes made through the API, newest first */
export type GetAuditResponse = {
  data: Array<AuditEntry>
  /** Pass as `after` for the next page; absent on the last. */
  next?: string
}

/** GET /api/v1/export: Export configuration (connectors, rules, device users, ACL) as one versioned document; secrets as references or encrypted with X-Junction-Passphrase */
export type GetExportResponse = unknown

/** POST /api/v1/import/plan: What importing the document would do, per object (create / update / unchanged / delete with prune=true), with field diffs; changes nothing */
export type PostImportPlanResponse = ImportPlan

/** POST /api/v1/import/emqx/plan: What importing an EMQX 5 configuration (connectors, actions, rules) into a deployment would do; `unmapped` lists what cannot become a Junction object, and why; changes nothing */
export type PostImportEmqxPlanResponse = ImportPlan

/** POST /api/v1/import/apply: Import the document: applies the plan POST /import/plan shows (IDs kept; applying again gives all unchanged) */
export type PostImportApplyResponse = ImportPlan

/** POST /api/v1/import/emqx/apply: Import an EMQX 5 configuration into a deployment (IDs derived from the EMQX names: importing again updates); never deletes */
export type PostImportEmqxApplyResponse = ImportPlan

/** GET /api/v1/nodes: The nodes of this installation and whether each is up */
export type GetNodesResponse = {
  data: Array<{
    /** JUNCTION_NODE_NAME, or the name the node keeps in its data directory. */
    name: string
    /** Where the node's API answers. */
    address: string
    /** `down` when its last heartbeat is more than 5 s old. */
    status: ("up" | "down")
    version: string
    startedAt: string
    lastHeartbeat: string
    /** True for the node that answered this request. */
    self: boolean
  }>
}
