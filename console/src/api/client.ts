import type {
  ActionTypes,
  ApiKey,
  AuditEntry,
  ConsoleUser,
  Me,
  NewApiKey,
  Role,
  BrokerStats,
  ConnectorDetails,
  ConnectorSummary,
  ConnectorType,
  Deployment,
  DeviceUser,
  LoginStats,
  MqttAcl,
  MqttLimits,
  ErrorBody,
  FailedMessage,
  FailedMessageList,
  JsonSchema,
  List,
  Plan,
  ProbeResult,
  Rule,
  RuleAction,
  RuleTestResult,
  ActionTestResult,
} from './types.ts'
import type { PostLoginResponse } from '../../../src/core/api-types.ts'

import type { HistoryVersion } from '../../../src/core/api-types.ts'

export type { HistoryVersion }

const TOKEN_KEY = 'junction.token'
const USER_KEY = 'junction.user'
const BASE = './api/v1'

/** An API error answer (`{error: {code, message, hint, fields}}`) or a network failure. */
export class ApiError extends Error {
  readonly status: number
  readonly body: ErrorBody

  constructor(status: number, body: ErrorBody) {
    super(body.message)
    this.name = 'ApiError'
    this.status = status
    this.body = body
  }

  get code(): string {
    return this.body.code
  }
}

export const session = {
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY)
  },
  user(): string | null {
    return sessionStorage.getItem(USER_KEY)
  },
  save(token: string, user: string): void {
    sessionStorage.setItem(TOKEN_KEY, token)
    sessionStorage.setItem(USER_KEY, user)
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY)
    sessionStorage.removeItem(USER_KEY)
  },
}

/** Fired when the API answers 401 to a logged-in request: the app goes back to the login page. */
export const SESSION_EXPIRED_EVENT = 'junction:session-expired'

async function request<T>(method: string, path: string, body?: unknown, opts: { anonymous?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const token = session.token()
  if (token && !opts.anonymous) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch (e) {
    throw new ApiError(0, {
      code: 'NETWORK_ERROR',
      message: `Junction did not answer (${e instanceof Error ? e.message : String(e)})`,
      hint: 'Check that Junction is running and reachable, then try again.',
    })
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let json: unknown = undefined
  if (text) {
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
  }
  if (!res.ok) {
    const err = (json as { error?: ErrorBody } | undefined)?.error ?? {
      code: `HTTP_${res.status}`,
      message: `Junction answered ${res.status} ${res.statusText}`.trim(),
    }
    if (res.status === 401 && headers.authorization) {
      session.clear()
      window.dispatchEvent(new CustomEvent(SESSION_EXPIRED_EVENT))
    }
    throw new ApiError(res.status, err)
  }
  return json as T
}

const enc = encodeURIComponent

export type { AuditEntry }
export interface AuditFilters { actor?: string; action?: string; objectType?: string; since?: string; until?: string }
const auditQuery = (f: Record<string, string | undefined>) => new URLSearchParams(Object.entries(f).filter((e): e is [string, string] => !!e[1])).toString()

/** The audit export is JSON lines, not JSON: fetched as text. */
async function auditExport(filters: AuditFilters): Promise<string> {
  const res = await fetch(`${BASE}/audit/export?${auditQuery({ ...filters })}`, { headers: { authorization: `Bearer ${session.token() ?? ''}` } })
  if (!res.ok) throw new ApiError(res.status, { code: `HTTP_${res.status}`, message: `Junction answered ${res.status} to the export` })
  return res.text()
}
const dep = (d: string) => `/deployments/${enc(d)}`

export const api = {
  audit: (filters: AuditFilters & { after?: string }) => request<{ data: AuditEntry[]; next?: string }>('GET', `/audit?${auditQuery({ ...filters })}`),
  auditExport,
  login: (username: string, password: string) =>
    request<PostLoginResponse>('POST', '/login', { username, password }, { anonymous: true }),
  logout: () => request<void>('POST', '/logout'),
  me: () => request<Me>('GET', '/me'),

  users: () => request<List<ConsoleUser>>('GET', '/users'),
  createUser: (body: { username: string; password: string; role: Role }) => request<ConsoleUser>('POST', '/users', body),
  updateUser: (username: string, body: { password?: string; role?: Role }) => request<ConsoleUser>('PATCH', `/users/${enc(username)}`, body),
  deleteUser: (username: string) => request<void>('DELETE', `/users/${enc(username)}`),
  apiKeys: () => request<List<ApiKey>>('GET', '/api-keys'),
  createApiKey: (body: { key?: string; role: Role; description?: string }) => request<NewApiKey>('POST', '/api-keys', body),
  deleteApiKey: (key: string) => request<void>('DELETE', `/api-keys/${enc(key)}`),

  connectorHistory: (d: string, id: string, after?: number) =>
    request<{ data: HistoryVersion[]; next?: string }>('GET', `${dep(d)}/connectors/${enc(id)}/history${after ? `?after=${after}` : ''}`),
  revertConnector: (d: string, id: string, version: number) => request<ConnectorDetails>('POST', `${dep(d)}/connectors/${enc(id)}/revert`, { version }),
  ruleHistory: (d: string, id: string, after?: number) =>
    request<{ data: HistoryVersion[]; next?: string }>('GET', `${dep(d)}/rules/${enc(id)}/history${after ? `?after=${after}` : ''}`),
  revertRule: (d: string, id: string, version: number) => request<Rule>('POST', `${dep(d)}/rules/${enc(id)}/revert`, { version }),

  connectorTypes: () => request<List<ConnectorType>>('GET', '/connector-types'),
  actionTypes: () => request<ActionTypes>('GET', '/action-types'),

  deployments: () => request<List<Deployment>>('GET', '/deployments'),
  deployment: (d: string) => request<Deployment>('GET', dep(d)),
  createDeployment: (body: { name: string; plan?: Plan; mqttPort?: number | null; broker?: Record<string, unknown> }) => request<Deployment>('POST', '/deployments', body),
  /**
   * The schema of a deployment's `broker` as the API validates it, read from the OpenAPI
   * document: the server's one schema drives this form too, no copy to keep in step.
   */
  brokerSettingsSchema: () =>
    request<{ paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: JsonSchema }> } } }> }>('GET', '/openapi.json')
      .then((doc) => doc.paths['/api/v1/deployments']?.post?.requestBody?.content['application/json']?.schema.properties?.broker ?? null),
  updateDeployment: (d: string, body: { name?: string; plan?: Plan; mqttPort?: number | null; mqtt?: Partial<MqttLimits> }) => request<Deployment>('PATCH', dep(d), body),
  startDeployment: (d: string) => request<Deployment>('POST', `${dep(d)}/start`),
  stopDeployment: (d: string) => request<Deployment>('POST', `${dep(d)}/stop`),

  connectors: (d: string) => request<List<ConnectorSummary>>('GET', `${dep(d)}/connectors`),
  connector: (d: string, id: string) => request<ConnectorDetails>('GET', `${dep(d)}/connectors/${enc(id)}`),
  createConnector: (d: string, body: { name: string; type: string; description?: string; config: Record<string, unknown> }) =>
    request<ConnectorDetails>('POST', `${dep(d)}/connectors`, body),
  updateConnector: (d: string, id: string, body: { name?: string; description?: string; config?: Record<string, unknown>; version?: number }) =>
    request<ConnectorDetails>('PUT', `${dep(d)}/connectors/${enc(id)}`, body),
  testNewConnector: (d: string, type: string, config: Record<string, unknown>) =>
    request<ProbeResult>('POST', `${dep(d)}/connectors/test`, { type, config }),
  testConnector: (d: string, id: string, config: Record<string, unknown>) =>
    request<ProbeResult>('POST', `${dep(d)}/connectors/${enc(id)}/test`, { config }),
  deleteConnector: (d: string, id: string, confirm: string) =>
    request<void>('DELETE', `${dep(d)}/connectors/${enc(id)}?confirm=${enc(confirm)}`),

  rules: (d: string) => request<List<Rule>>('GET', `${dep(d)}/rules`),
  rule: (d: string, id: string) => request<Rule>('GET', `${dep(d)}/rules/${enc(id)}`),
  createRule: (d: string, body: { name: string; sql: string; description?: string; actions: RuleAction[] }) =>
    request<Rule>('POST', `${dep(d)}/rules`, body),
  updateRule: (d: string, id: string, body: { name?: string; sql?: string; description?: string; actions?: RuleAction[] }) =>
    request<Rule>('PUT', `${dep(d)}/rules/${enc(id)}`, body),
  testRule: (d: string, sql: string, context: Record<string, unknown>) =>
    request<RuleTestResult>('POST', `${dep(d)}/rules/test`, { sql, context }),
  testAction: (d: string, action: RuleAction, output: Record<string, unknown>, rollback: boolean) =>
    request<ActionTestResult>('POST', `${dep(d)}/rules/test-action`, { action, output, rollback }),
  setRuleEnabled: (d: string, id: string, enabled: boolean) =>
    request<Rule>('POST', `${dep(d)}/rules/${enc(id)}/${enabled ? 'enable' : 'disable'}`),
  deleteRule: (d: string, id: string) => request<void>('DELETE', `${dep(d)}/rules/${enc(id)}`),
  failedMessages: (d: string, id: string, index: number, limit: number) =>
    request<FailedMessageList>('GET', `${dep(d)}/rules/${enc(id)}/actions/${index}/failed-messages?limit=${limit}`),
  failedMessage: (d: string, id: string, index: number, messageId: string) =>
    request<FailedMessage & { message: unknown }>('GET', `${dep(d)}/rules/${enc(id)}/actions/${index}/failed-messages/${enc(messageId)}`),
  replayFailed: (d: string, id: string, index: number, ids?: string[]) =>
    request<{ replayed: number; notFound: string[] }>('POST', `${dep(d)}/rules/${enc(id)}/actions/${index}/failed-messages/replay`, ids ? { ids } : {}),
  discardFailed: (d: string, id: string, index: number, ids?: string[]) =>
    request<{ discarded: number; notFound: string[] }>('POST', `${dep(d)}/rules/${enc(id)}/actions/${index}/failed-messages/discard`, ids ? { ids } : {}),

  deviceUsers: (d: string) => request<List<DeviceUser>>('GET', `${dep(d)}/mqtt/users`),
  createDeviceUser: (d: string, body: { username: string; password: string; superuser?: boolean }) => request<DeviceUser>('POST', `${dep(d)}/mqtt/users`, body),
  updateDeviceUser: (d: string, username: string, body: { password?: string; superuser?: boolean }) =>
    request<DeviceUser>('PATCH', `${dep(d)}/mqtt/users/${enc(username)}`, body),
  deleteDeviceUser: (d: string, username: string) => request<void>('DELETE', `${dep(d)}/mqtt/users/${enc(username)}`),
  brokerStats: (d: string) => request<BrokerStats | null>('GET', `${dep(d)}/mqtt/stats`),
  loginStats: (d: string) => request<LoginStats>('GET', `${dep(d)}/mqtt/login-stats`),
  acl: (d: string) => request<MqttAcl>('GET', `${dep(d)}/mqtt/acl`),
  saveAcl: (d: string, acl: Pick<MqttAcl, 'rules' | 'default'>) => request<MqttAcl>('PUT', `${dep(d)}/mqtt/acl`, { rules: acl.rules, default: acl.default }),
}

/** A message for any thrown value, for the place where the user acted. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message
  if (e instanceof Error) return e.message
  return String(e)
}
