/**
 * Names the console uses for the API's shapes: each one an alias of (a part of) a type generated
 * from the OpenAPI document (`src/core/api-types.ts`, `npm run generate:api-types`), so none can drift
 * from what the server sends. Only the JSON Schemas the API serves are refined, in lib/schema.ts.
 */
import type * as G from '../../../src/core/api-types.ts'
import type { JsonSchema } from '../lib/schema.ts'

export type { JsonSchema }

export type Deployment = G.Deployment
/** Which broker a deployment uses: `{mode: "embedded"}`, or an external one's settings (secrets masked) and its connection now. */
export type BrokerView = Deployment['broker']
export type ExternalBrokerStatus = NonNullable<BrokerView['status']>
export type Plan = Deployment['plan']
export type DeploymentStatus = Deployment['status']
export type ListenerAddress = Deployment['mqtt']['addresses'][number]
/** The broker limits of a deployment: its `mqtt` settings but the listeners and TLS. */
export type MqttLimits = Required<Omit<NonNullable<G.PatchDeploymentsDepBody['mqtt']>, 'listeners' | 'tls'>>

export type DeviceUser = G.DeviceUser
export type LoginStats = G.GetDeploymentsDepMqttLoginStatsResponse
export type BrokerStats = NonNullable<G.GetDeploymentsDepMqttStatsResponse>
export type DropReason = keyof BrokerStats['dropped']
export type MqttAcl = G.MqttAcl
export type AclRule = MqttAcl['rules'][number]
export type AclWho = AclRule['who']
export type AclPermission = AclRule['permission']

/** A connector type; its schemas are JSON Schemas the forms are built from. */
export type ConnectorType = Omit<G.GetConnectorTypesResponse['data'][number], 'configSchema' | 'paramsSchema'> & { configSchema: JsonSchema; paramsSchema: JsonSchema }
/** The built-in actions and the action options, as GET /action-types serves them. */
export type ActionTypes = Omit<G.GetActionTypesResponse, 'data' | 'optionsSchema' | 'fallbackOptionsSchema'> & {
  data: Array<{ builtin: string; paramsSchema: JsonSchema }>
  optionsSchema: JsonSchema
  fallbackOptionsSchema: JsonSchema
}

export type ConnectorSummary = G.ConnectorSummary
export type ConnectorDetails = G.ConnectorDetails
export type ConnectorStatus = ConnectorSummary['status']
export type ConnectorMetrics = ConnectorSummary['metrics']
export type ConnectorDelivery = ConnectorSummary['delivery']
export type HealthState = ConnectorDelivery['state']
export type RuleRef = ConnectorDetails['rules'][number]
export type ProbeResult = G.ProbeResult
export type ProbeStep = ProbeResult['steps'][number]

export type Rule = G.Rule
export type RuleAction = Rule['actions'][number]
export type RuleMetrics = NonNullable<Rule['metrics']>
export type ActionMetrics = RuleMetrics['actions'][number]
export type ActionHealth = ActionMetrics['health']
export type Series = NonNullable<ActionMetrics['series']>
export type RuleWarning = NonNullable<Rule['warnings']>[number]
export type RuleTestResult = G.PostDeploymentsDepRulesTestResponse
export type ActionTestResult = G.PostDeploymentsDepRulesTestActionResponse

export type FailedMessageList = G.GetDeploymentsDepRulesIdActionsIndexFailedMessagesResponse
export type FailedMessage = Omit<FailedMessageList['data'][number], 'excerpt'>
export type FailureReason = FailedMessage['reason']
export type FailedMessagesStats = NonNullable<ActionMetrics['failedMessages']>

export type ConsoleUser = G.ConsoleUser
export type ApiKey = G.ApiKey
export type NewApiKey = G.PostApiKeysResponse
export type Role = ConsoleUser['role']
export type Me = G.GetMeResponse
export type AuditEntry = G.AuditEntry

/**
 * The `error` of an error answer. The document leaves it open for the fields some codes add
 * (docs/errors.md): those the console reads are named here.
 */
export type ErrorBody = G.ErrorBody['error'] & {
  /** CONNECTOR_IN_USE: the rules that use it. */
  rules?: RuleRef[]
  /** INVALID_SQL: where the parser stopped. */
  line?: number
  column?: number
  expected?: string[]
  found?: string
  /** VERSION_CONFLICT: the version saved now. */
  currentVersion?: number
}
export type FieldError = NonNullable<ErrorBody['fields']>[number]

export interface List<T> {
  data: T[]
}
