import { SYSTEM_AUTHOR, type ChangeAuthor } from './change-history.js'
import { Type, type Static } from '@sinclair/typebox'
import { parse as parseYaml, stringify as toYaml } from 'yaml'
import type { BrokerSettings, ConnectorRecord, DeploymentRecord, ExternalBrokerSettings, RuleAction, RuleRecord } from '../core/domain.js'
import { EMBEDDED_BROKER, PLANS } from '../core/domain.js'
import { ApiError, validationError } from '../core/errors.js'
import { ID_PATTERN } from '../core/ids.js'
import type { MqttAcl } from '../core/mqtt-acl.js'
import type { FieldError } from '../core/schema-validation.js'
import { validateWithSchema } from '../core/schema-validation.js'
import { mapSecrets, MASK, secretPaths } from '../core/secrets.js'
import { BrokerSettingsSchema, brokerSettingsFrom } from './broker-settings.js'
import { compileRuleSql, RuleSqlError } from '../rules/sql/index.js'
import type { Store } from '../store/store.js'
import type { ConnectorService } from './connector-service.js'
import type { DeploymentService } from './deployment-service.js'
import type { MqttAccessService } from './mqtt-access-service.js'
import type { RuleService } from './rule-service.js'
import { convertEmqx, type Unmapped } from './emqx-import.js'
import { HoconError, parseHocon } from './hocon.js'
import { SecretEnvelope, type EncryptionHeader } from './secret-envelope.js'
import type { TypeRegistry } from './type-registry.js'

/**
 * Export and import of configuration as one versioned document, and the import's plan: what would
 * be created, updated, left unchanged or (with prune) deleted, per object, with field diffs.
 * Everything is written through the control services, so an import is validated as the API does.
 */

export const DOCUMENT_VERSION = 1

/** The broker settings an export carries: limits only; ports, listeners and the certificate belong to the instance. */
const LIMIT_KEYS = ['allowAnonymous', 'maxPacketSize', 'maxConnections', 'serverKeepAlive', 'maxInflight', 'maxQueuedMessages', 'maxSessionExpiry', 'maxMessageRate', 'maxConnectionRate'] as const

const intOrNull = (minimum: number, maximum: number) => Type.Union([Type.Integer({ minimum, maximum }), Type.Null()])
const rateOrNull = Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000_000 }), Type.Null()])
/** The bounds of the API's deployment `mqtt` limits (src/api/schemas.ts), which control cannot import. */
const DocMqttLimits = Type.Object({
  allowAnonymous: Type.Optional(Type.Boolean()),
  maxPacketSize: Type.Optional(Type.Integer({ minimum: 16, maximum: 268_435_455 })),
  maxConnections: Type.Optional(intOrNull(1, 10_000_000)),
  serverKeepAlive: Type.Optional(intOrNull(1, 65_535)),
  maxInflight: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
  maxQueuedMessages: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
  maxSessionExpiry: Type.Optional(Type.Integer({ minimum: 0, maximum: 4_294_967_295 })),
  maxMessageRate: Type.Optional(rateOrNull),
  maxConnectionRate: Type.Optional(rateOrNull),
}, { additionalProperties: false })

const SecretValue = Type.Union([
  Type.String(),
  Type.Object({ $secret: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object({ $encrypted: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
])
const Id = Type.String({ pattern: ID_PATTERN })
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })

const DocConnector = Type.Object({
  id: Id, name: Name, type: Type.String({ minLength: 1 }), description: Type.Optional(Type.String({ maxLength: 2000 })),
  enabled: Type.Optional(Type.Boolean()), config: Type.Record(Type.String(), Type.Unknown()),
}, { additionalProperties: false })
const DocRule = Type.Object({
  id: Id, name: Name, sql: Type.String({ minLength: 1 }), description: Type.Optional(Type.String({ maxLength: 2000 })),
  enabled: Type.Optional(Type.Boolean()), actions: Type.Array(Type.Unknown(), { maxItems: 100 }),
}, { additionalProperties: false })
const DocUser = Type.Object({ username: Type.String({ minLength: 1, maxLength: 256 }), superuser: Type.Optional(Type.Boolean()), passwordHash: SecretValue }, { additionalProperties: false })
/** An external broker's settings (docs/external-broker.md) with its secrets written like a connector's. */
const DocBroker = Type.Object({
  ...BrokerSettingsSchema.properties,
  password: Type.Optional(SecretValue),
  tls: Type.Optional(Type.Object({ ...BrokerSettingsSchema.properties.tls.properties, clientKey: Type.Optional(SecretValue) }, { additionalProperties: false })),
}, { additionalProperties: false })
const DocDeployment = Type.Object({
  id: Id, name: Name, plan: Type.Optional(Type.Union(PLANS.map((p) => Type.Literal(p)))),
  mqtt: Type.Optional(DocMqttLimits),
  /** Left out: the embedded broker. */
  broker: Type.Optional(DocBroker),
  connectors: Type.Optional(Type.Array(DocConnector, { maxItems: 10_000 })),
  rules: Type.Optional(Type.Array(DocRule, { maxItems: 10_000 })),
  mqttUsers: Type.Optional(Type.Array(DocUser, { maxItems: 100_000 })),
  mqttAcl: Type.Optional(Type.Object({ rules: Type.Array(Type.Unknown()), default: Type.Union([Type.Literal('allow'), Type.Literal('deny')]) }, { additionalProperties: false })),
}, { additionalProperties: false })
export const ExportDocumentSchema = Type.Object({
  junction: Type.Literal(DOCUMENT_VERSION, { description: 'Document format version.' }),
  exportedAt: Type.Optional(Type.String()),
  encryption: Type.Optional(Type.Object({
    cipher: Type.Literal('aes-256-gcm'), kdf: Type.Literal('scrypt'),
    N: Type.Integer({ minimum: 16384, maximum: 131072 }), r: Type.Integer({ minimum: 1, maximum: 16 }), p: Type.Integer({ minimum: 1, maximum: 4 }),
    salt: Type.String({ minLength: 8, maxLength: 200 }),
  }, { additionalProperties: false })),
  deployments: Type.Array(DocDeployment, { maxItems: 1000 }),
}, { additionalProperties: false })

export type ExportDocument = Static<typeof ExportDocumentSchema>
type DocDeploymentT = Static<typeof DocDeployment>

export type PlanAction = 'create' | 'update' | 'unchanged' | 'delete'
export interface FieldChange { readonly path: string; readonly from?: unknown; readonly to?: unknown }
export interface PlanItem {
  readonly kind: 'deployment' | 'connector' | 'rule' | 'mqttUser' | 'mqttAcl'
  readonly deployment: string
  /** The object's ID (username for device users, the deployment's ID for its ACL). */
  readonly id: string
  readonly name: string
  readonly action: PlanAction
  /** For updates: every changed field, secrets as "******". */
  readonly changes?: readonly FieldChange[]
}
export interface ImportPlan {
  readonly items: readonly PlanItem[]
  readonly summary: Record<PlanAction, number>
  /** EMQX import: what could not become a Junction object, and why. */
  readonly unmapped?: readonly Unmapped[]
}

export interface ExportOptions { deployment?: string | undefined; passphrase?: string | undefined }
export interface ImportOptions { passphrase?: string | undefined; prune?: boolean | undefined }

/** What an import resolved: the document's objects with secrets in clear and configs validated. */
interface Resolved {
  readonly deployment: DocDeploymentT
  readonly connectors: Array<{ id: string; name: string; type: string; description: string; enabled: boolean; config: Record<string, unknown> }>
  readonly users: Array<{ username: string; superuser: boolean; passwordHash: string }>
  /** The broker the document asks for: embedded when it names none. */
  readonly broker: BrokerSettings
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export class ConfigTransferService {
  constructor(
    private readonly store: Store,
    private readonly types: TypeRegistry,
    private readonly deployments: DeploymentService,
    private readonly connectors: ConnectorService,
    private readonly rules: RuleService,
    private readonly mqttAccess: MqttAccessService,
  ) {}

  async export(options: ExportOptions = {}): Promise<ExportDocument> {
    const records = options.deployment === undefined
      ? await this.store.deployments.list()
      : [await this.deployments.record(options.deployment)]
    const envelope = options.passphrase === undefined ? undefined : SecretEnvelope.create(options.passphrase)
    const deployments: DocDeploymentT[] = []
    for (const d of records) {
      const connectors = await this.store.connectors.list(d.id)
      const rules = await this.store.rules.list(d.id)
      const users = await this.store.mqttAccess.listUsers(d.id)
      const acl = await this.store.mqttAccess.getAcl(d.id)
      deployments.push({
        // An external deployment's `mqtt` does not apply (and would be refused on import).
        id: d.id, name: d.name, plan: d.plan, ...(d.broker.mode === 'external' ? { broker: this.exportBroker(d.id, d.broker, envelope) } : { mqtt: limitsOf(d) }),
        connectors: connectors.map((c) => ({
          id: c.id, name: c.name, type: c.type, description: c.description, enabled: c.enabled,
          config: this.exportConfig(c, envelope),
        })),
        rules: rules.map((r) => ({ id: r.id, name: r.name, sql: r.sql, description: r.description, enabled: r.enabled, actions: r.actions as unknown[] })),
        mqttUsers: users.map((u) => ({
          username: u.username, superuser: u.superuser,
          passwordHash: envelope ? { $encrypted: envelope.seal(u.passwordHash) } : { $secret: `mqtt-user/${d.id}/${u.username}` },
        })),
        ...(acl.updatedAt === null ? {} : { mqttAcl: { rules: acl.acl.rules as unknown[], default: acl.acl.default } }),
      })
    }
    return { junction: DOCUMENT_VERSION, exportedAt: new Date().toISOString(), ...(envelope ? { encryption: envelope.header } : {}), deployments }
  }

  async plan(input: unknown, options: ImportOptions = {}): Promise<ImportPlan> {
    return (await this.planResolved(input, options)).plan
  }

  private async planResolved(input: unknown, options: ImportOptions): Promise<{ plan: ImportPlan; resolved: Resolved[] }> {
    const { resolved } = await this.resolve(input, options)
    const items: PlanItem[] = []
    for (const r of resolved) items.push(...(await this.planDeployment(r, options.prune === true)))
    return { plan: { items, summary: summarize(items) }, resolved }
  }

  /** Applies the plan of the same document; returns the plan it applied. */
  async apply(input: unknown, options: ImportOptions = {}, by: ChangeAuthor = SYSTEM_AUTHOR): Promise<ImportPlan> {
    const { plan, resolved } = await this.planResolved(input, options)
    const act = (kind: PlanItem['kind'], dep: string, id: string) => plan.items.find((i) => i.kind === kind && i.deployment === dep && i.id === id)?.action
    for (const r of resolved) {
      const d = r.deployment
      const depAction = act('deployment', d.id, d.id)
      const mqtt = r.broker.mode === 'embedded' ? d.mqtt : undefined
      const broker = { broker: r.broker.mode === 'embedded' ? { mode: 'embedded' } : r.broker }
      if (depAction === 'create') await this.deployments.create({ id: d.id, name: d.name, ...(d.plan ? { plan: d.plan } : {}), ...(mqtt ? { mqtt } : {}), ...broker })
      else if (depAction === 'update') await this.deployments.update(d.id, { name: d.name, ...(d.plan ? { plan: d.plan } : {}), ...broker, ...(mqtt ? { mqtt } : {}) })
      for (const c of r.connectors) {
        const a = act('connector', d.id, c.id)
        if (a === 'create') await this.connectors.create(d.id, { id: c.id, name: c.name, type: c.type, description: c.description, enabled: c.enabled, config: c.config }, by)
        else if (a === 'update') await this.connectors.update(d.id, c.id, { name: c.name, description: c.description, enabled: c.enabled, config: c.config }, by)
      }
      for (const u of r.users) {
        const a = act('mqttUser', d.id, u.username)
        const now = new Date().toISOString()
        if (a === 'create') await this.store.mqttAccess.insertUser({ deploymentId: d.id, username: u.username, passwordHash: u.passwordHash, superuser: u.superuser, createdAt: now, updatedAt: now })
        else if (a === 'update') {
          const stored = await this.store.mqttAccess.getUser(d.id, u.username)
          if (stored) await this.store.mqttAccess.updateUser({ ...stored, passwordHash: u.passwordHash, superuser: u.superuser, updatedAt: now })
        }
      }
      if (d.mqttAcl && act('mqttAcl', d.id, d.id) === 'update') await this.mqttAccess.putAcl(d.id, d.mqttAcl as MqttAcl, { restoring: true })
      for (const rule of d.rules ?? []) {
        const a = act('rule', d.id, rule.id)
        const body = { name: rule.name, sql: rule.sql, description: rule.description ?? '', enabled: rule.enabled ?? true, actions: rule.actions }
        if (a === 'create') await this.rules.create(d.id, { id: rule.id, ...body }, by)
        else if (a === 'update') await this.rules.update(d.id, rule.id, body, by)
      }
      // Deletions last, rules before the connectors they use.
      for (const i of plan.items.filter((x) => x.deployment === d.id && x.action === 'delete')) {
        if (i.kind === 'rule') await this.rules.remove(d.id, i.id)
      }
      for (const i of plan.items.filter((x) => x.deployment === d.id && x.action === 'delete')) {
        if (i.kind === 'connector') await this.connectors.remove(d.id, i.id, i.id)
        else if (i.kind === 'mqttUser') await this.mqttAccess.deleteUser(d.id, i.id)
      }
    }
    return plan
  }

  /** The plan of an EMQX configuration imported into one deployment (never deletes). */
  async planEmqx(tree: unknown, deploymentId: string): Promise<ImportPlan> {
    const { doc, unmapped } = await this.emqxDocument(tree, deploymentId)
    return { ...(await this.plan(doc)), unmapped }
  }

  async applyEmqx(tree: unknown, deploymentId: string, by: ChangeAuthor = SYSTEM_AUTHOR): Promise<ImportPlan> {
    const { doc, unmapped } = await this.emqxDocument(tree, deploymentId)
    return { ...(await this.apply(doc, {}, by)), unmapped }
  }

  /**
   * A Junction document of what maps: each connector and action is checked against its Junction
   * schema here, and one that fails is listed as unmapped with the schema's reason instead of
   * failing the whole import; a rule keeps the actions that map.
   */
  async emqxDocument(tree: unknown, deploymentId: string): Promise<{ doc: ExportDocument; unmapped: Unmapped[] }> {
    if (!isObj(tree) || (!isObj(tree.connectors) && !isObj(tree.actions) && !isObj(tree.rule_engine) && !isObj(tree.rules))) {
      throw validationError([{ path: '', message: 'has none of connectors, actions, rule_engine', hint: 'Send the cluster.hocon of an EMQX 5 data export (or its JSON form).' }])
    }
    const d = await this.deployments.record(deploymentId)
    const conv = convertEmqx(tree)
    const unmapped = [...conv.unmapped]
    const connectors: Array<{ id: string; name: string; type: string; description: string; enabled: boolean; config: Record<string, unknown> }> = []
    const typeOf = new Map<string, { id: string; type: string }>()
    for (const c of conv.connectors) {
      const definition = this.types.get(c.type)
      try {
        this.types.validateConfig(definition, c.config)
      } catch (err) {
        if (!(err instanceof ApiError)) throw err
        unmapped.push({ kind: 'connector', name: `${c.emqxType}:${c.emqxName}`, reason: fieldReason(err) })
        continue
      }
      connectors.push({ id: c.id, name: c.name, type: c.type, description: `Imported from EMQX (${c.emqxType}:${c.emqxName})`, enabled: c.enabled, config: c.config })
      typeOf.set(`${c.emqxType}:${c.emqxName}`, { id: c.id, type: c.type })
    }
    const builtins = new Map(this.rules.builtinActions().map((b) => [b.name, b]))
    const rules = conv.rules.filter((r) => {
      try {
        compileRuleSql(r.sql)
        return true
      } catch (err) {
        if (!(err instanceof RuleSqlError)) throw err
        unmapped.push({ kind: 'rule', name: r.name, reason: `its SQL does not compile in Junction: ${err.message}` })
        return false
      }
    }).map((r) => {
      const actions: unknown[] = []
      for (const a of r.actions) {
        const target = a.builtin !== undefined ? undefined : typeOf.get(a.connectorEmqxKey ?? '')
        const schema = a.builtin !== undefined ? builtins.get(a.builtin)?.paramsSchema : target && this.types.get(target.type).paramsSchema
        if (!schema) { unmapped.push({ kind: 'action', name: a.emqxRef, reason: `rule "${r.name}": its connector was not imported` }); continue }
        const p = validateWithSchema(schema, a.params, 'params')
        if (!p.ok) { unmapped.push({ kind: 'action', name: a.emqxRef, reason: `rule "${r.name}": ${p.errors.map((e) => `${e.path} ${e.message}`).join('; ')}` }); continue }
        actions.push(a.builtin !== undefined ? { builtin: a.builtin, params: p.value } : { connectorId: target!.id, params: p.value })
      }
      return { id: r.id, name: r.name, sql: r.sql, description: r.description, enabled: r.enabled, actions }
    })
    const doc: ExportDocument = { junction: DOCUMENT_VERSION, deployments: [{ id: d.id, name: d.name, plan: d.plan, connectors, rules }] }
    return { doc, unmapped }
  }

  private exportBroker(depId: string, b: ExternalBrokerSettings, envelope: SecretEnvelope | undefined): Static<typeof DocBroker> {
    const secret = (value: string | undefined, path: string) =>
      value === undefined ? undefined : envelope ? { $encrypted: envelope.seal(value) } : { $secret: `broker/${depId}.${path}` }
    const password = secret(b.password, 'password')
    const clientKey = secret(b.tls.clientKey, 'tls.clientKey')
    const { password: _p, tls: { clientKey: _k, ...tls }, topics, servers, ...rest } = b
    return { ...rest, servers: [...servers], ...(topics ? { topics: [...topics] } : {}), ...(password ? { password } : {}), tls: { ...tls, ...(clientKey ? { clientKey } : {}) } }
  }

  private exportConfig(c: ConnectorRecord, envelope: SecretEnvelope | undefined): Record<string, unknown> {
    const definition = this.types.find(c.type)
    if (!definition) return {}
    // mapSecrets writes strings; the reference object replaces the marker afterwards.
    const marked = mapSecrets(c.config, definition.configSchema, (value, path) => `\u0000${envelope ? envelope.seal(value) : path}`)
    const replace = (o: unknown): unknown => {
      if (typeof o === 'string' && o.startsWith('\u0000')) return envelope ? { $encrypted: o.slice(1) } : { $secret: `${c.id}.${o.slice(1)}` }
      if (Array.isArray(o)) return o.map(replace)
      if (isObj(o)) return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, replace(v)]))
      return o
    }
    return replace(marked) as Record<string, unknown>
  }

  /** Validates the document and resolves its secrets; throws 400 with paths inside the document. */
  private async resolve(input: unknown, options: ImportOptions): Promise<{ doc: ExportDocument; resolved: Resolved[] }> {
    const checked = validateWithSchema<ExportDocument>(ExportDocumentSchema, input, '')
    if (!checked.ok) throw validationError(checked.errors)
    const doc = checked.value
    const errors: FieldError[] = []
    let envelope: SecretEnvelope | undefined
    if (doc.encryption) {
      if (options.passphrase === undefined) {
        throw new ApiError('VALIDATION_FAILED', 'The document\'s secrets are encrypted: a passphrase is needed', {
          hint: 'Send the passphrase used for the export in the X-Junction-Passphrase header.',
          fields: [{ path: 'encryption', message: 'needs a passphrase', hint: 'Send the X-Junction-Passphrase header.' }],
        })
      }
      envelope = SecretEnvelope.open(options.passphrase, doc.encryption as EncryptionHeader)
    }
    let wrongPassphrase = false
    const secretOf = async (v: unknown, path: string, fromRef: (ref: string) => Promise<string | undefined>): Promise<string | undefined> => {
      if (typeof v === 'string') return v
      if (isObj(v) && typeof v.$encrypted === 'string') {
        if (!envelope) { errors.push({ path, message: 'is encrypted but the document has no "encryption" header', hint: 'Export again with a passphrase.' }); return undefined }
        const clear = envelope.unseal(v.$encrypted)
        if (clear === undefined) wrongPassphrase = true
        return clear
      }
      if (isObj(v) && typeof v.$secret === 'string') {
        const clear = await fromRef(v.$secret)
        if (clear === undefined) errors.push({ path, message: `secret reference "${v.$secret}" does not resolve on this instance`, hint: 'References work only on the instance that exported them; export with a passphrase (X-Junction-Passphrase) to move secrets.' })
        return clear
      }
      errors.push({ path, message: 'must be a string, {"$secret": ...} or {"$encrypted": ...}', hint: 'Use the value the export wrote.' })
      return undefined
    }
    const allConnectors = new Map((await this.store.connectors.listAll()).map((c) => [c.id, c]))
    const allRules = new Map((await this.store.rules.listAll()).map((r) => [r.id, r]))
    const resolved: Resolved[] = []
    const seenDeps = new Set<string>()
    for (const [di, d] of doc.deployments.entries()) {
      const dp = `deployments.${di}`
      if (seenDeps.has(d.id)) errors.push({ path: `${dp}.id`, message: `deployment "${d.id}" appears twice`, hint: 'Give each deployment once.' })
      seenDeps.add(d.id)
      const connectors: Resolved['connectors'] = []
      const ids = new Set<string>()
      for (const [ci, c] of (d.connectors ?? []).entries()) {
        const cp = `${dp}.connectors.${ci}`
        if (ids.has(c.id)) errors.push({ path: `${cp}.id`, message: `connector "${c.id}" appears twice`, hint: 'Give each connector once.' })
        ids.add(c.id)
        const existing = allConnectors.get(c.id)
        if (existing && existing.deploymentId !== d.id) errors.push({ path: `${cp}.id`, message: `connector "${c.id}" belongs to deployment "${existing.deploymentId}"`, hint: 'IDs are unique across deployments: import it into that deployment, or remove "id" clashes.' })
        else if (existing && existing.type !== c.type) errors.push({ path: `${cp}.type`, message: `connector "${c.id}" exists as ${existing.type}; a connector's type cannot change`, hint: 'Give the new connector another ID, or delete the old one first.' })
        const definition = this.types.find(c.type)
        if (!definition) { errors.push({ path: `${cp}.type`, message: `unknown connector type "${c.type}"`, hint: `Use one of: ${this.types.list().map((t) => t.type).join(', ')}.` }); continue }
        const config = structuredClone(c.config)
        for (const sp of secretPaths(definition.configSchema)) {
          const keys = sp.split('.')
          let holder: unknown = config
          for (const k of keys.slice(0, -1)) holder = isObj(holder) ? holder[k] : undefined
          const last = keys[keys.length - 1]!
          if (!isObj(holder) || holder[last] === undefined) continue
          holder[last] = await secretOf(holder[last], `${cp}.config.${sp}`, async (ref) => {
            const dot = ref.indexOf('.')
            const owner = dot < 0 ? undefined : allConnectors.get(ref.slice(0, dot))
            const value = owner ? ref.slice(dot + 1).split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), owner.config) : undefined
            return typeof value === 'string' ? value : undefined
          })
        }
        try {
          connectors.push({ id: c.id, name: c.name, type: c.type, description: c.description ?? '', enabled: c.enabled ?? true, config: this.types.validateConfig(definition, config) })
        } catch (err) {
          if (!(err instanceof ApiError)) throw err
          for (const f of err.fields ?? []) errors.push({ ...f, path: `${cp}.${f.path}` })
        }
      }
      const users: Resolved['users'] = []
      for (const [ui, u] of (d.mqttUsers ?? []).entries()) {
        const hash = await secretOf(u.passwordHash, `${dp}.mqttUsers.${ui}.passwordHash`, async (ref) => {
          const m = /^mqtt-user\/([^/]+)\/(.+)$/.exec(ref)
          return m ? (await this.store.mqttAccess.getUser(m[1]!, m[2]!))?.passwordHash : undefined
        })
        if (hash !== undefined) users.push({ username: u.username, superuser: u.superuser ?? false, passwordHash: hash })
      }
      const builtins = new Set(this.rules.builtinActions().map((b) => b.name))
      const ruleIds = new Set<string>()
      for (const [ri, r] of (d.rules ?? []).entries()) {
        const rp = `${dp}.rules.${ri}`
        if (ruleIds.has(r.id)) errors.push({ path: `${rp}.id`, message: `rule "${r.id}" appears twice`, hint: 'Give each rule once.' })
        ruleIds.add(r.id)
        const existingRule = allRules.get(r.id)
        if (existingRule && existingRule.deploymentId !== d.id) errors.push({ path: `${rp}.id`, message: `rule "${r.id}" belongs to deployment "${existingRule.deploymentId}"`, hint: 'IDs are unique across deployments: import it into that deployment.' })
        try {
          compileRuleSql(r.sql)
        } catch (err) {
          if (!(err instanceof RuleSqlError)) throw err
          errors.push({ path: `${rp}.sql`, message: err.message, hint: err.hint ?? 'Check the SQL near that position.' })
        }
        const visit = async (a: unknown, ap: string): Promise<void> => {
          if (!isObj(a)) { errors.push({ path: ap, message: 'must be an object', hint: 'An action is {"connectorId": "...", "params": {...}} or {"builtin": "republish", "params": {...}}.' }); return }
          if (typeof a.connectorId === 'string') {
            const inDoc = (d.connectors ?? []).find((c) => c.id === a.connectorId)
            const type = inDoc?.type ?? (await this.store.connectors.get(d.id, a.connectorId))?.type
            if (!type) errors.push({ path: `${ap}.connectorId`, message: `connector "${a.connectorId}" is neither in the document nor in deployment "${d.id}"`, hint: 'Export the connector with the rule.' })
            else {
              const definition = this.types.find(type)
              if (definition) {
                const p = validateWithSchema(definition.paramsSchema, a.params ?? {}, `${ap}.params`)
                if (!p.ok) errors.push(...p.errors)
              }
            }
          } else if (typeof a.builtin === 'string') {
            if (!builtins.has(a.builtin)) errors.push({ path: `${ap}.builtin`, message: `unknown built-in action "${a.builtin}"`, hint: `Use one of: ${[...builtins].join(', ')}.` })
          } else errors.push({ path: `${ap}.connectorId`, message: 'connectorId (a string) or builtin is required', hint: 'Name the connector this action sends through.' })
          if (a.fallback !== undefined) await visit(a.fallback, `${ap}.fallback`)
        }
        for (const [ai, a] of r.actions.entries()) await visit(a, `${rp}.actions.${ai}`)
      }
      let broker: BrokerSettings = EMBEDDED_BROKER
      if (d.broker) {
        const fromStored = async (ref: string) => {
          const m = /^broker\/([^.]+)\.(.+)$/.exec(ref)
          const stored = m ? (await this.store.deployments.get(m[1]!))?.broker : undefined
          const value = stored && m ? m[2]!.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), stored) : undefined
          return typeof value === 'string' ? value : undefined
        }
        const { password, tls, ...rest } = d.broker
        const clearPassword = password === undefined ? undefined : await secretOf(password, `${dp}.broker.password`, fromStored)
        const clearKey = tls?.clientKey === undefined ? undefined : await secretOf(tls.clientKey, `${dp}.broker.tls.clientKey`, fromStored)
        try {
          broker = brokerSettingsFrom({
            ...rest, ...(clearPassword === undefined ? {} : { password: clearPassword }),
            ...(tls ? { tls: { ...tls, ...(clearKey === undefined ? {} : { clientKey: clearKey }) } } : {}),
          })
        } catch (err) {
          if (!(err instanceof ApiError)) throw err
          for (const f of err.fields ?? []) errors.push({ ...f, path: `${dp}.${f.path}` })
        }
      }
      resolved.push({ deployment: d, connectors, users, broker })
    }
    if (wrongPassphrase) {
      throw new ApiError('VALIDATION_FAILED', 'The passphrase does not decrypt the document\'s secrets', {
        hint: 'Send the passphrase used for the export in the X-Junction-Passphrase header.',
        fields: [{ path: 'encryption', message: 'wrong passphrase (or altered secrets)', hint: 'Check the X-Junction-Passphrase header.' }],
      })
    }
    if (errors.length > 0) throw validationError(errors)
    return { doc, resolved }
  }

  private async planDeployment(r: Resolved, prune: boolean): Promise<PlanItem[]> {
    const d = r.deployment
    const items: PlanItem[] = []
    const stored = await this.store.deployments.get(d.id)
    // An external broker's `mqtt` is neither exported nor applied: compared only for an embedded one.
    const mqttOf = (limits: object) => (r.broker.mode === 'embedded' ? { mqtt: limits } : {})
    const wantDep = { name: d.name, plan: d.plan ?? stored?.plan ?? 'dedicated', ...mqttOf({ ...(stored ? limitsOf(stored) : {}), ...(d.mqtt ?? {}) }), broker: r.broker }
    if (!stored) items.push({ kind: 'deployment', deployment: d.id, id: d.id, name: d.name, action: 'create' })
    else {
      const changes = diff({ name: stored.name, plan: stored.plan, ...mqttOf(limitsOf(stored)), broker: stored.broker }, wantDep, new Set(['broker.password', 'broker.tls.clientKey']))
      items.push({ kind: 'deployment', deployment: d.id, id: d.id, name: d.name, action: changes.length ? 'update' : 'unchanged', ...(changes.length ? { changes } : {}) })
    }
    const storedConnectors = stored ? await this.store.connectors.list(d.id) : []
    for (const c of r.connectors) {
      const s = storedConnectors.find((x) => x.id === c.id)
      if (!s) { items.push({ kind: 'connector', deployment: d.id, id: c.id, name: c.name, action: 'create' }); continue }
      const secrets = new Set(secretPaths(this.types.get(c.type).configSchema).map((p) => `config.${p}`))
      const changes = diff({ name: s.name, description: s.description, enabled: s.enabled, config: s.config }, { name: c.name, description: c.description, enabled: c.enabled, config: c.config }, secrets)
      items.push({ kind: 'connector', deployment: d.id, id: c.id, name: c.name, action: changes.length ? 'update' : 'unchanged', ...(changes.length ? { changes } : {}) })
    }
    const storedRules = stored ? await this.store.rules.list(d.id) : []
    for (const rule of d.rules ?? []) {
      const s = storedRules.find((x) => x.id === rule.id)
      if (!s) { items.push({ kind: 'rule', deployment: d.id, id: rule.id, name: rule.name, action: 'create' }); continue }
      const changes = diff(ruleShape(s), ruleShape({ ...rule, description: rule.description ?? '', enabled: rule.enabled ?? true, actions: rule.actions as RuleAction[] }), new Set())
      items.push({ kind: 'rule', deployment: d.id, id: rule.id, name: rule.name, action: changes.length ? 'update' : 'unchanged', ...(changes.length ? { changes } : {}) })
    }
    const storedUsers = stored ? await this.store.mqttAccess.listUsers(d.id) : []
    for (const u of r.users) {
      const s = storedUsers.find((x) => x.username === u.username)
      if (!s) { items.push({ kind: 'mqttUser', deployment: d.id, id: u.username, name: u.username, action: 'create' }); continue }
      const changes = diff({ superuser: s.superuser, passwordHash: s.passwordHash }, { superuser: u.superuser, passwordHash: u.passwordHash }, new Set(['passwordHash']))
      items.push({ kind: 'mqttUser', deployment: d.id, id: u.username, name: u.username, action: changes.length ? 'update' : 'unchanged', ...(changes.length ? { changes } : {}) })
    }
    if (d.mqttAcl) {
      const s = stored ? (await this.store.mqttAccess.getAcl(d.id)).acl : undefined
      const changes = diff(s ? { rules: s.rules, default: s.default } : {}, { rules: d.mqttAcl.rules, default: d.mqttAcl.default }, new Set())
      items.push({ kind: 'mqttAcl', deployment: d.id, id: d.id, name: 'ACL', action: changes.length ? 'update' : 'unchanged', ...(changes.length ? { changes } : {}) })
    }
    if (prune) {
      for (const s of storedRules) if (!(d.rules ?? []).some((x) => x.id === s.id)) items.push({ kind: 'rule', deployment: d.id, id: s.id, name: s.name, action: 'delete' })
      for (const s of storedConnectors) if (!r.connectors.some((x) => x.id === s.id)) items.push({ kind: 'connector', deployment: d.id, id: s.id, name: s.name, action: 'delete' })
      for (const s of storedUsers) if (!r.users.some((x) => x.username === s.username)) items.push({ kind: 'mqttUser', deployment: d.id, id: s.username, name: s.username, action: 'delete' })
    }
    return items
  }
}

function fieldReason(err: ApiError): string {
  const fields = err.fields ?? []
  return fields.length ? fields.map((f) => `${f.path} ${f.message}`).join('; ') : err.message
}

function limitsOf(d: DeploymentRecord): Record<string, unknown> {
  return Object.fromEntries(LIMIT_KEYS.map((k) => [k, d.mqttSettings[k]]))
}

function ruleShape(r: { name: string; sql: string; description: string; enabled: boolean; actions: readonly RuleAction[] }): Record<string, unknown> {
  return { name: r.name, sql: r.sql, description: r.description, enabled: r.enabled, actions: r.actions }
}

function summarize(items: readonly PlanItem[]): Record<PlanAction, number> {
  const s: Record<PlanAction, number> = { create: 0, update: 0, unchanged: 0, delete: 0 }
  for (const i of items) s[i.action]++
  return s
}

/** Changed leaf paths between two values; values under a secret path are shown as the mask. */
export function diff(from: unknown, to: unknown, secrets: ReadonlySet<string>, path = ''): FieldChange[] {
  if (secrets.has(path)) {
    if (JSON.stringify(from) === JSON.stringify(to)) return []
    return [{ path, ...(from === undefined ? {} : { from: MASK }), ...(to === undefined ? {} : { to: MASK }) }]
  }
  if (isObj(from) && isObj(to)) {
    const out: FieldChange[] = []
    for (const k of new Set([...Object.keys(from), ...Object.keys(to)])) out.push(...diff(from[k], to[k], secrets, path ? `${path}.${k}` : k))
    return out
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
    return from.flatMap((v, i) => diff(v, to[i], secrets, path ? `${path}.${i}` : String(i)))
  }
  if (JSON.stringify(from) === JSON.stringify(to)) return []
  return [{ path, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) }]
}

/** EMQX configuration from text: JSON, else HOCON. 400 with the line when neither parses. */
export function parseEmqxText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    try {
      return parseHocon(text)
    } catch (err) {
      if (!(err instanceof HoconError)) throw err
      throw new ApiError('VALIDATION_FAILED', `The EMQX configuration does not parse as JSON or HOCON: ${err.message}`, {
        hint: 'Send cluster.hocon from an EMQX 5 data export, or its JSON form.', fields: [{ path: '', message: err.message, hint: 'Check the syntax near that line.' }],
      })
    }
  }
}

/** A document from text: JSON, or YAML (a superset). 400 with the line when it does not parse. */
export function parseDocumentText(text: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 100 }) as unknown
  } catch (err) {
    throw new ApiError('VALIDATION_FAILED', `The document does not parse as JSON or YAML: ${(err as Error).message}`, {
      hint: 'Send the document as the export wrote it.', fields: [{ path: '', message: (err as Error).message, hint: 'Check the syntax near that line.' }],
    })
  }
}

export function documentToYaml(doc: ExportDocument): string {
  return toYaml(doc)
}
