/**
 * EMQX 5.x configuration (the `connectors`, `actions` (bridges v2) and `rule_engine.rules` of a
 * data export's cluster.hocon, in its JSON form or parsed from HOCON by `parseHocon`) turned into
 * Junction connectors and rules for the types Junction has. Pure: no I/O; what cannot be mapped is
 * returned with the reason. The caller validates each candidate against the real schemas.
 */

export interface Unmapped { readonly kind: 'connector' | 'action' | 'rule'; readonly name: string; readonly reason: string }
export interface CandidateConnector { readonly emqxType: string; readonly emqxName: string; readonly id: string; readonly name: string; readonly type: string; readonly enabled: boolean; readonly config: Record<string, unknown> }
export interface CandidateAction { readonly emqxRef: string; readonly connectorEmqxKey?: string; readonly builtin?: string; readonly params: Record<string, unknown> }
export interface CandidateRule { readonly id: string; readonly name: string; readonly sql: string; readonly description: string; readonly enabled: boolean; readonly actions: CandidateAction[] }
export interface EmqxConversion { connectors: CandidateConnector[]; rules: CandidateRule[]; unmapped: Unmapped[] }

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined)
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined)
const drop = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))

/** EMQX type (connector and action) -> Junction type. */
const TYPES: Record<string, string> = {
  pgsql: 'postgresql', mysql: 'mysql', kafka_producer: 'kafka', kafka: 'kafka', http: 'http', webhook: 'http',
  mqtt: 'mqtt', redis: 'redis', rabbitmq: 'rabbitmq',
}

/** An ID under ID_PATTERN, stable for the same EMQX name, so importing twice updates instead of duplicating. */
export function emqxId(prefix: 'c' | 'r', ...parts: string[]): string {
  const slug = parts.join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '')
  let hash = 0
  for (const ch of parts.join('\u0000')) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) >>> 0
  return `${prefix}-emqx-${slug.slice(0, 40)}-${hash.toString(36)}`.slice(0, 64)
}

function hostPort(server: unknown, defaultPort: number): { host: string; port: number } | undefined {
  const s = str(server)?.trim().split(',')[0]?.trim()
  if (!s) return undefined
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(s.replace(/^[a-z]+:\/\//, ''))
  return m ? { host: m[1]!, port: m[2] ? Number(m[2]) : defaultPort } : undefined
}

function mapConnector(emqxType: string, c: Obj): { config: Obj } | { reason: string } {
  switch (emqxType) {
    case 'pgsql':
    case 'mysql': {
      const hp = hostPort(c.server, emqxType === 'pgsql' ? 5432 : 3306)
      if (!hp) return { reason: 'no "server" (host:port)' }
      return { config: drop({ ...hp, database: str(c.database), username: str(c.username), password: str(c.password), poolSize: int(c.pool_size), ...(isObj(c.ssl) && c.ssl.enable === true ? { tls: { enabled: true } } : {}) }) }
    }
    case 'kafka_producer':
    case 'kafka': {
      const auth = c.authentication
      let authentication: Obj | undefined
      if (isObj(auth)) {
        if (auth.kerberos_principal !== undefined) return { reason: 'Kerberos (GSSAPI) authentication is not supported by Junction\'s Kafka connector' }
        authentication = drop({ mechanism: str(auth.mechanism)?.replace(/_/g, '-'), username: str(auth.username), password: str(auth.password) })
      }
      return { config: drop({ bootstrapServers: str(c.bootstrap_hosts), ...(authentication ? { authentication } : {}), ...(isObj(c.ssl) && c.ssl.enable === true ? { tls: { enabled: true } } : {}) }) }
    }
    case 'http':
    case 'webhook': {
      const headers: Obj = {}
      let authorization: string | undefined
      for (const [k, v] of Object.entries(isObj(c.headers) ? c.headers : {})) {
        if (k.toLowerCase() === 'authorization') authorization = str(v)
        else headers[k] = str(v)
      }
      return { config: drop({ url: str(c.url), headers, authorization, poolSize: int(c.pool_size) }) }
    }
    case 'mqtt': {
      const proto = str(c.proto_ver)
      return { config: drop({ server: str(c.server), username: str(c.username), password: str(c.password), ...(proto === 'v5' ? { protocolVersion: '5' } : {}), ...(isObj(c.ssl) && c.ssl.enable === true ? { tls: { enabled: true } } : {}) }) }
    }
    case 'redis': {
      const p = isObj(c.parameters) ? c.parameters : c
      const mode = str(p.redis_type) ?? 'single'
      return { config: drop({ mode, servers: str(p.servers ?? p.server), database: int(p.database), username: str(p.username), password: str(p.password), sentinelMaster: str(p.sentinel) }) }
    }
    case 'rabbitmq':
      return { config: drop({ server: str(c.server), port: int(c.port), username: str(c.username), password: str(c.password), virtualHost: str(c.virtual_host), poolSize: int(c.pool_size) }) }
  }
  return { reason: `Junction has no ${emqxType} connector` }
}

function mapParams(emqxType: string, action: Obj): Obj {
  const p = isObj(action.parameters) ? action.parameters : action
  switch (emqxType) {
    case 'pgsql':
    case 'mysql':
      return drop({ sql: str(p.sql) })
    case 'kafka_producer':
    case 'kafka': {
      const m = isObj(p.message) ? p.message : {}
      return drop({ topic: str(p.topic), key: str(m.key), value: str(m.value) })
    }
    case 'http':
    case 'webhook':
      return drop({ method: str(p.method)?.toUpperCase(), path: str(p.path), body: str(p.body), ...(isObj(p.headers) && Object.keys(p.headers).length ? { headers: p.headers } : {}) })
    case 'mqtt':
      return drop({ topic: str(p.topic), qos: int(p.qos), retain: typeof p.retain === 'boolean' ? p.retain : undefined, payload: str(p.payload) })
    case 'redis':
      return drop({ command: Array.isArray(p.command_template) ? p.command_template.map((x) => String(x)) : undefined })
    case 'rabbitmq':
      return drop({ exchange: str(p.exchange), routingKey: str(p.routing_key), payload: str(p.payload_template), deliveryMode: str(p.delivery_mode) })
  }
  return {}
}

/** `tree`: the cluster.hocon root (or its `connectors`/`actions`/`rule_engine` parts). */
export function convertEmqx(tree: unknown): EmqxConversion {
  const root = isObj(tree) ? tree : {}
  const out: EmqxConversion = { connectors: [], rules: [], unmapped: [] }
  const byKey = new Map<string, CandidateConnector>()
  const names = new Set<string>()
  for (const [emqxType, group] of Object.entries(isObj(root.connectors) ? root.connectors : {})) {
    for (const [emqxName, raw] of Object.entries(isObj(group) ? group : {})) {
      if (!isObj(raw)) continue
      const type = TYPES[emqxType]
      const mapped = type ? mapConnector(emqxType, raw) : { reason: `Junction has no ${emqxType} connector` }
      if ('reason' in mapped) { out.unmapped.push({ kind: 'connector', name: `${emqxType}:${emqxName}`, reason: mapped.reason }); continue }
      const name = names.has(emqxName) ? `${emqxType}-${emqxName}` : emqxName
      names.add(name)
      const c: CandidateConnector = { emqxType, emqxName, id: emqxId('c', emqxType, emqxName), name, type: type!, enabled: raw.enable !== false, config: mapped.config }
      out.connectors.push(c)
      byKey.set(`${emqxType}:${emqxName}`, c)
    }
  }
  // EMQX 5.0-5.3 bridges (`bridges.<type>.<name>`) carry connection and action in one object.
  const actions = new Map<string, { type: string; action: Obj }>()
  for (const [emqxType, group] of Object.entries(isObj(root.actions) ? root.actions : {})) {
    for (const [name, raw] of Object.entries(isObj(group) ? group : {})) if (isObj(raw)) actions.set(`${emqxType}:${name}`, { type: emqxType, action: raw })
  }
  const ruleRoot = isObj(root.rule_engine) && isObj(root.rule_engine.rules) ? root.rule_engine.rules : isObj(root.rules) ? root.rules : {}
  for (const [ruleId, raw] of Object.entries(ruleRoot)) {
    if (!isObj(raw)) continue
    const sql = str(raw.sql)
    const ruleName = str(raw.name) || ruleId
    if (!sql) { out.unmapped.push({ kind: 'rule', name: ruleName, reason: 'no "sql"' }); continue }
    const rule: CandidateRule = { id: emqxId('r', ruleId), name: ruleName, sql, description: str(raw.description) ?? '', enabled: raw.enable !== false, actions: [] }
    for (const a of Array.isArray(raw.actions) ? raw.actions : []) {
      if (typeof a === 'string') {
        const found = actions.get(a)
        if (!found) { out.unmapped.push({ kind: 'action', name: a, reason: `rule "${ruleName}": the action is not in "actions" of the export` }); continue }
        if (!TYPES[found.type]) { out.unmapped.push({ kind: 'action', name: a, reason: `rule "${ruleName}": Junction has no ${found.type} connector` }); continue }
        const connectorKey = `${found.type === 'kafka' ? 'kafka_producer' : found.type}:${str(found.action.connector) ?? ''}`
        const connector = byKey.get(connectorKey) ?? byKey.get(`${found.type}:${str(found.action.connector) ?? ''}`)
        if (!connector) { out.unmapped.push({ kind: 'action', name: a, reason: `rule "${ruleName}": its connector "${str(found.action.connector) ?? '?'}" was not imported` }); continue }
        rule.actions.push({ emqxRef: a, connectorEmqxKey: `${connector.emqxType}:${connector.emqxName}`, params: mapParams(found.type, found.action) })
      } else if (isObj(a) && a.function === 'republish') {
        const args = isObj(a.args) ? a.args : {}
        rule.actions.push({ emqxRef: 'republish', builtin: 'republish', params: drop({ topic: str(args.topic), qos: int(args.qos), retain: typeof args.retain === 'boolean' ? args.retain : undefined, payload: str(args.payload) }) })
      } else {
        const fn = isObj(a) ? str(a.function) ?? 'unknown' : String(a)
        out.unmapped.push({ kind: 'action', name: fn, reason: `rule "${ruleName}": Junction has no "${fn}" action${fn === 'console' ? ' (it only prints to the EMQX console)' : ''}` })
      }
    }
    out.rules.push(rule)
  }
  return out
}
