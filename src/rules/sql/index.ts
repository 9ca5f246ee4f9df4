/**
 * The EMQX-compatible rule SQL engine: parse and compile a statement once, then evaluate it on
 * each event. See README.md in this folder for the supported syntax and the known differences
 * from EMQX.
 */
import { ruleFunctionArity, ruleFunctionChecks, ruleFunctions } from '../functions/index.js'
import { compileStatement, type CompiledRuleSql, type CompileOptions } from './compiler.js'

export type { CompiledRuleSql, CompileOptions, RuleFunction } from './compiler.js'
export { MAX_RANGE_LENGTH } from './compiler.js'
export { RuleEvalError, RuleSqlError, type RuleClause } from './errors.js'
export {
  BRIDGE_FIELDS,
  DOCUMENTED_EVENT_TOPICS,
  EVENT_FIELDS,
  EVENT_NAMES,
  EVENT_TOPICS,
  eventNameForSource,
  fieldsForSource,
  isEventSource,
  MESSAGE_PUBLISH_EVENT_TOPIC,
} from './events.js'
export { topicFilterProblem, topicMatches } from './topic.js'
export { parseRuleSql } from './parser.js'
export type * from './ast.js'

/**
 * Parses and compiles a rule SQL statement; throws RuleSqlError (with line, column, expected and
 * found) when it does not parse, names an unknown function or event topic, or misuses an alias.
 * `functions` defaults to the built-in library (src/rules/functions), checked against its arities.
 */
export function compileRuleSql(sql: string, options: Partial<CompileOptions> = {}): CompiledRuleSql {
  const functions = options.functions ?? ruleFunctions
  // The built-in arities describe the built-in table only.
  const arity = options.arity ?? (options.functions === undefined ? ruleFunctionArity : undefined)
  const checks = options.checks ?? (options.functions === undefined ? ruleFunctionChecks : undefined)
  return compileStatement(sql, { functions, arity, checks })
}
