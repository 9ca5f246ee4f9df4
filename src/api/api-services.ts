import type { AccountService } from '../control/account-service.js'
import type { AuditService } from '../control/audit-service.js'
import type { AuthService } from '../control/auth-service.js'
import type { ClusterService } from '../control/cluster-service.js'
import type { ConfigTransferService } from '../control/config-transfer.js'
import type { ConnectorService } from '../control/connector-service.js'
import type { DeploymentService } from '../control/deployment-service.js'
import type { FailedMessageService } from '../control/failed-message-service.js'
import type { MqttAccessService } from '../control/mqtt-access-service.js'
import type { RuleService } from '../control/rule-service.js'
import type { TypeRegistry } from '../control/type-registry.js'

/** What the HTTP layer may call: the control services, nothing below them. */
export interface ApiServices {
  readonly version: string
  readonly auth: AuthService
  /** Console users and API keys with their roles. */
  readonly accounts: AccountService
  /** Every change made through the API. */
  readonly audit: AuditService
  readonly types: TypeRegistry
  readonly deployments: DeploymentService
  readonly connectors: ConnectorService
  readonly rules: RuleService
  /** The failed-message stores of rule actions (keepFailed). */
  readonly failedMessages: FailedMessageService
  /** Device users, ACL and login statistics of each deployment's broker. */
  readonly mqttAccess: MqttAccessService
  /** Export and import of configuration (docs/export-import.md). */
  readonly transfer: ConfigTransferService
  /** The nodes sharing the store, and the change feed between them (docs/cluster.md). */
  readonly cluster: ClusterService
  /** Prometheus text of every deployment's rule and action metrics. */
  prometheus(): Promise<string>
}
