import { withResourceOptions, type ConnectorDefinition } from '../connector-api/index.js'
import { ApiError, validationError } from '../core/errors.js'
import { hasUnresolvedMask, MASK } from '../core/secrets.js'
import { validateWithSchema } from '../core/schema-validation.js'

/** The connector types this Junction knows, and config validation against their schemas. */
export class TypeRegistry {
  private readonly byType: Map<string, ConnectorDefinition>

  constructor(definitions: readonly ConnectorDefinition[]) {
    this.byType = new Map(definitions.map((d) => [d.type, withResourceOptions(d)]))
  }

  list(): ConnectorDefinition[] {
    return [...this.byType.values()]
  }

  find(type: string): ConnectorDefinition | undefined {
    return this.byType.get(type)
  }

  get(type: string): ConnectorDefinition {
    const d = this.byType.get(type)
    if (!d) {
      throw new ApiError('UNKNOWN_CONNECTOR_TYPE', `Unknown connector type "${type}"`, {
        hint: `Use one of: ${[...this.byType.keys()].join(', ')} (GET /api/v1/connector-types).`,
      })
    }
    return d
  }

  /**
   * Validates a config and fills in every default; throws VALIDATION_FAILED with every failing
   * field under `config.`. A secret still equal to the mask means the caller had nothing stored
   * to keep, which is an error too, rather than saving "******" as a password.
   */
  validateConfig(definition: ConnectorDefinition, config: unknown): Record<string, unknown> {
    const r = validateWithSchema<Record<string, unknown>>(definition.configSchema, config, 'config')
    if (!r.ok) throw validationError(r.errors)
    const masked = hasUnresolvedMask(r.value, definition.configSchema)
    if (masked) {
      throw validationError([{ path: `config.${masked}`, message: `"${MASK}" is the mask shown for a stored secret, not a value`, hint: 'Type the secret itself.' }])
    }
    return r.value
  }
}
