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
  readonly createdAt: string
  readonly updatedAt: string
}

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
  /** ...or a built-in action (`republish`). */
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
