/**
 * Compiles a parsed statement to closures once, so evaluating an event walks no syntax tree.
 *
 * Evaluation follows emqx_rule_runtime:
 * - SELECT fields are evaluated in order into the output; a field reads the output built so far
 *   first and falls back to the event when the value there is missing (so later fields can use the
 *   aliases of earlier ones). A field without AS is stored under its own name / path
 *   (`payload.x` -> `{payload: {x: ...}}`), a string literal under its text, anything else under a
 *   generated `_v_...` name.
 * - WHERE sees the event merged with the output (output wins); it must give true or false.
 * - FOREACH evaluates its expressions like SELECT (aliases also become visible as event fields); the
 *   last one gives the list (anything else counts as an empty list). After WHERE, each element is
 *   bound to `item` (or the last alias) on top of event + FOREACH output; INCASE filters elements;
 *   DO selects each output like SELECT does, or without DO the output is that whole binding.
 * - `payload.x...` decodes a string payload as JSON (once per event); a payload that is not JSON
 *   is an error there. Other strings met on a path are decoded too but silently missing when not
 *   JSON.
 */
import type { AliasPath, CallExpr, Expr, PathStep, SelectField, Source, Statement } from './ast.js'
import { EvalFailure, failureAt, RuleEvalError, RuleSqlError, type RuleClause, type SourcePos } from './errors.js'
import { DOCUMENTED_EVENT_TOPICS, EVENT_NAMES, MESSAGE_PUBLISH_EVENT_TOPIC } from './events.js'
import { MAX_EVALUATION_SIZE, MAX_VALUE_SIZE, valueSize } from '../limits.js'
import { parseRuleSql } from './parser.js'
import { topicFilterProblem } from './topic.js'
import {
  arith,
  asText,
  compareValues,
  deepEqual,
  describe,
  getIndex,
  getKey,
  mergeInto,
  negate,
  NOT_JSON,
  ownGet,
  ownSet,
  putPath,
  rangeList,
  sliceList,
  tryDecodeJson,
  type PlainObject,
  type PutStep,
} from './values.js'

export type RuleFunction = (...args: unknown[]) => unknown

export interface CompileOptions {
  /** Built-in functions by lower-case name. */
  readonly functions: ReadonlyMap<string, RuleFunction>
  /** How many arguments each function takes (max Infinity when variadic); calls outside are compile errors. */
  readonly arity?: ReadonlyMap<string, { readonly min: number; readonly max: number }>
  /**
   * Checks of calls by lower-case name, given what is known of the arguments at compile time (a
   * literal's value); a throw rejects the statement at that call (e.g. a regular expression the
   * engine cannot run).
   */
  readonly checks?: ReadonlyMap<string, (args: readonly ({ literal: true; value: unknown } | { literal: false })[]) => void>
}

export interface CompiledRuleSql {
  /** The FROM topics exactly as written: MQTT topic filters ("sensors/#", "a/+/b") and event topics ("$events/client_connected", ...). */
  readonly sources: readonly string[]
  /** True when the SQL is a FOREACH statement. */
  readonly isForeach: boolean
  /**
   * Runs the rule on one event's context (a plain object with the EMQX fields: id, clientid,
   * username, payload (the raw string), topic, qos, ... or the event's own fields). Returns the
   * outputs: [] when WHERE is false (no match), one object for SELECT, zero or more for FOREACH.
   * Outputs may share nested values with the context and with each other: treat them as read-only.
   * Throws RuleEvalError on a runtime error (e.g. a function failing).
   */
  evaluate(context: Readonly<Record<string, unknown>>): Record<string, unknown>[]
  /**
   * As `evaluate`, telling also whether the event matched: false when WHERE is false. A FOREACH
   * whose WHERE is true matches even when it gives no outputs (an empty or non-list collection,
   * or INCASE false for every element), as EMQX answers `[]` there and "no match" only for WHERE.
   */
  match(context: Readonly<Record<string, unknown>>): { matched: boolean; outputs: Record<string, unknown>[] }
}

/** The largest `[a..b]` list literal accepted. */
export const MAX_RANGE_LENGTH = 100_000

type Fn = (env: Env) => unknown

/**
 * Where names are looked up. `a` is the output being built (SELECT/DO: a value there wins unless it
 * is missing) or the selected fields merged over `b` (WHERE: a key present in `a` wins, `override`);
 * `b` is the event (or event + selected + item in INCASE/DO).
 */
class Env {
  a: PlainObject | undefined = undefined
  override = false
  /** The last payload text decoded, and its value. */
  payloadText: string | undefined = undefined
  payloadValue: unknown = undefined
  /** Characters and bytes of strings and binaries made so far by calls and `+`, and how many may be. */
  produced = 0
  readonly budget: number

  constructor(public b: PlainObject) {
    this.budget = Math.max(MAX_EVALUATION_SIZE, 4 * valueSize(b.payload))
  }
}

/**
 * Counts a string or binary that a call or `+` made against the limits (src/rules/limits.ts): one
 * value may not grow past MAX_VALUE_SIZE unless an input was already that large, and one
 * evaluation may not make more than its budget. Functions with a cheap way to know their result
 * size fail before allocating; this catches the rest after one bounded step.
 */
function sized(env: Env, v: unknown, what: string, a: unknown, b?: unknown, rest?: readonly unknown[]): unknown {
  const n = typeof v === 'string' ? v.length : v instanceof Uint8Array ? v.length : 0
  if (n === 0) return v
  if (n > MAX_VALUE_SIZE && n > valueSize(a) && n > valueSize(b) && !(rest !== undefined && rest.some((x) => valueSize(x) >= n))) {
    throw new EvalFailure(`${what} made a value of ${n} characters or bytes, over the limit of ${MAX_VALUE_SIZE} for one value`)
  }
  env.produced += n
  if (env.produced > env.budget) {
    throw new EvalFailure(`${what} went over the limit of ${env.budget} characters or bytes of strings and binaries that one evaluation may make`)
  }
  return v
}

const PROTO_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype))

/** A key lookup that is safe for names like `constructor` and fast for the others. */
const getter = (name: string): ((o: PlainObject) => unknown) => (PROTO_NAMES.has(name) ? (o) => ownGet(o, name) : (o) => o[name])

function decodedPayload(env: Env, raw: unknown): unknown {
  const text = asText(raw)
  if (text === undefined) return raw // already structured
  if (text === env.payloadText) return env.payloadValue
  const value = tryDecodeJson(text)
  if (value === NOT_JSON) throw new EvalFailure(`the payload is not valid JSON: ${describe(text)}`)
  env.payloadText = text
  env.payloadValue = value
  return value
}

interface CompiledAlias {
  /** The put steps when known at compile time. */
  readonly steps: readonly PutStep[] | undefined
  /** Otherwise computes them (an index read from a field). */
  readonly dynamic: ((env: Env) => PutStep[]) | undefined
  /** A single name: a plain property write. */
  readonly name: string | undefined
}

interface CompiledField {
  readonly star: boolean
  readonly value: Fn
  readonly alias: CompiledAlias
  /** Has an alias (`expr AS name` or `expr name`): in FOREACH it also becomes an event field. */
  readonly explicit: boolean
  /** Where the alias (or the field, without one) is, for errors while putting the value. */
  readonly pos: SourcePos
}

class Compiler {
  constructor(
    private readonly functions: ReadonlyMap<string, RuleFunction>,
    private readonly arity: CompileOptions['arity'],
    private readonly checks: CompileOptions['checks'],
  ) {}

  // ---- statement ----------------------------------------------------------------------------

  statement(stmt: Statement): CompiledRuleSql {
    const sources = stmt.sources.map((s) => checkSource(s))
    if (stmt.kind === 'select') {
      const fields = stmt.fields.map((f, i) => this.field(f, i))
      const where = stmt.where === undefined ? undefined : this.expr(stmt.where)
      const wherePos = stmt.where?.pos
      const evaluate = (context: Readonly<Record<string, unknown>>): PlainObject[] => {
        const env = new Env(context as PlainObject)
        const out: PlainObject = {}
        env.a = out
        runPhase('SELECT', () => selectInto(out, fields, env, context as PlainObject))
        if (where !== undefined && !condition('WHERE', where, env, out, context as PlainObject, wherePos!)) return []
        return [out]
      }
      return {
        sources,
        isForeach: false,
        evaluate,
        match: (context) => {
          const outputs = evaluate(context)
          return { matched: outputs.length > 0, outputs }
        },
      }
    }

    const fields = stmt.fields.map((f, i) => this.field(f, i))
    const last = stmt.fields[stmt.fields.length - 1]!
    const lastField = fields[fields.length - 1]!
    if (last.kind === 'field' && last.alias !== undefined && (last.alias.steps.length !== 1 || last.alias.steps[0]!.kind !== 'key')) {
      throw new RuleSqlError(last.alias.pos, 'the last FOREACH expression names the element: its alias must be a plain name (like `AS s`), not a path', [], undefined)
    }
    const itemKey = last.kind === 'field' && last.alias !== undefined ? (last.alias.steps[0] as { key: string }).key : 'item'
    const iteratesPayload = last.kind === 'field' && last.expr.kind === 'var' && last.expr.name === 'payload'
    const lastPos = last.pos
    const doFields = stmt.doFields?.map((f, i) => this.field(f, i))
    const incase = stmt.incase === undefined ? undefined : this.expr(stmt.incase)
    const incasePos = stmt.incase?.pos
    const where = stmt.where === undefined ? undefined : this.expr(stmt.where)
    const wherePos = stmt.where?.pos
    /** The outputs, or undefined when WHERE is false. */
    const run = (context: Readonly<Record<string, unknown>>): PlainObject[] | undefined => {
      const ctx = context as PlainObject
      const env = new Env(ctx)
      const out: PlainObject = {}
      env.a = out
      let list: unknown[] = []
      runPhase('FOREACH', () => {
        let columns = ctx
        let columnsOwned = false
        for (const f of fields) {
          const value = f.value(env)
          putField(out, f, value, env, true)
          if (f === lastField) {
            let v = value
            if (iteratesPayload) {
              try {
                v = decodedPayload(env, v)
              } catch (err) {
                throw failureAt(err, lastPos)
              }
            }
            list = Array.isArray(v) ? v : []
          } else if (f.explicit) {
            // An aliased FOREACH expression is also visible as an event field to the next ones.
            columns = putField(columns, f, value, env, columnsOwned)
            columnsOwned = true
            env.b = columns
          }
        }
      })
      if (where !== undefined && !condition('WHERE', where, env, out, ctx, wherePos!)) return undefined
      if (list.length === 0) return []
      const base: PlainObject = { ...ctx, ...out }
      const results: PlainObject[] = []
      for (const item of list) {
        const bound: PlainObject = { ...base }
        ownSet(bound, itemKey, item)
        if (incase !== undefined && !condition('INCASE', incase, env, undefined, bound, incasePos!)) continue
        if (doFields === undefined) {
          results.push(bound)
          continue
        }
        const each: PlainObject = {}
        env.a = each
        env.override = false
        env.b = bound
        runPhase('DO', () => selectInto(each, doFields, env, bound))
        results.push(each)
      }
      return results
    }
    return {
      sources,
      isForeach: true,
      evaluate: (context) => run(context) ?? [],
      match: (context) => {
        const outputs = run(context)
        return outputs === undefined ? { matched: false, outputs: [] } : { matched: true, outputs }
      },
    }
  }

  private field(f: SelectField, index: number): CompiledField {
    if (f.kind === 'star') return { star: true, value: () => undefined, alias: { steps: undefined, dynamic: undefined, name: undefined }, explicit: false, pos: f.pos }
    const value = this.expr(f.expr)
    const alias = f.alias !== undefined ? this.alias(f.alias) : this.implicitAlias(f.expr, index + 1)
    return { star: false, value, alias, explicit: f.alias !== undefined, pos: f.alias?.pos ?? f.pos }
  }

  private alias(a: AliasPath): CompiledAlias {
    const steps = a.steps
    if (steps.every((s) => s.kind !== 'dynamic-index')) {
      const put: PutStep[] = steps.map((s) => (s.kind === 'key' ? { key: s.key } : { index: s.kind === 'index' ? s.index : 0 }))
      return staticAlias(put)
    }
    const parts = steps.map((s): ((env: Env) => PutStep) => {
      if (s.kind === 'key') {
        const step = { key: s.key }
        return () => step
      }
      if (s.kind === 'index') {
        const step = { index: s.index }
        return () => step
      }
      const index = this.expr(s.index)
      return (env) => {
        const v = index(env)
        return { index: typeof v === 'number' && Number.isInteger(v) ? v : 0 }
      }
    })
    return { steps: undefined, dynamic: (env) => parts.map((p) => p(env)), name: undefined }
  }

  /** The output key of a field without AS (EMQX alias/2). */
  private implicitAlias(e: Expr, n: number): CompiledAlias {
    switch (e.kind) {
      case 'var':
        return staticAlias([{ key: e.name }])
      case 'literal':
        if (typeof e.value === 'string') return staticAlias([{ key: e.value }])
        return staticAlias([{ key: `_v_const_${String(e.value)}_${n}` }])
      case 'path': {
        if (e.base.kind !== 'var') break
        const steps: AliasPath['steps'][number][] = [{ kind: 'key', key: e.base.name, pos: e.base.pos }]
        for (const s of e.steps) steps.push(s.kind === 'key' ? s : indexAliasStep(s))
        return this.alias({ steps, pos: e.pos })
      }
      case 'slice':
        if (e.target.kind === 'var' || (e.target.kind === 'path' && e.target.base.kind === 'var')) return this.implicitAlias(e.target, n)
        break
      case 'call':
        return staticAlias([{ key: `_v_fun_${e.name}_${n}` }])
      case 'binary':
      case 'compare':
        return staticAlias([{ key: `_v_op_${e.op}_${n}` }])
      case 'unary':
        return staticAlias([{ key: `_v_op_${e.op}_${n}` }])
      default:
        break
    }
    return staticAlias([{ key: `_v_${e.kind}_${n}` }])
  }

  // ---- expressions --------------------------------------------------------------------------

  expr(e: Expr): Fn {
    switch (e.kind) {
      case 'literal': {
        const v = e.value
        return () => v
      }
      case 'var':
        return this.path(e.name, [], e.pos)
      case 'path':
        if (e.base.kind === 'var') return this.path(e.base.name, e.steps, e.pos)
        return this.valuePath(this.expr(e.base), e.steps)
      case 'slice': {
        const target = this.expr(e.target)
        const { from, to, pos } = e
        if (from === 0 || to === 0) throw new RuleSqlError(pos, 'a range index cannot be 0: indexes start at 1 (negative ones count from the end)', [], '0')
        return (env) => {
          const v = target(env)
          try {
            return sliceList(v, from, to)
          } catch (err) {
            throw failureAt(err, pos)
          }
        }
      }
      case 'call':
        return this.call(e)
      case 'unary': {
        if (e.op === '+') return this.expr(e.operand)
        if (e.operand.kind === 'literal' && typeof e.operand.value === 'number') {
          const v = negate(e.operand.value)
          return () => v
        }
        const operand = this.expr(e.operand)
        const pos = e.pos
        return (env) => {
          const v = operand(env)
          if (typeof v === 'number') return v === 0 ? 0 : -v
          throw failureAt(new EvalFailure(`cannot negate ${describe(v)}`), pos)
        }
      }
      case 'binary': {
        const left = this.expr(e.left)
        const right = this.expr(e.right)
        const { op, pos } = e
        return (env) => {
          const l = left(env)
          const r = right(env)
          if (op === '+' && typeof l === 'number' && typeof r === 'number') {
            const s = l + r
            if (Number.isFinite(s)) return s === 0 ? 0 : s
          }
          try {
            return sized(env, arith(op, l, r), `the ${op} operator`, l, r)
          } catch (err) {
            throw failureAt(err, pos)
          }
        }
      }
      case 'compare': {
        const left = this.expr(e.left)
        const right = this.expr(e.right)
        const { op, pos } = e
        return (env) => {
          const l = left(env)
          const r = right(env)
          if (typeof l === 'number' && typeof r === 'number') {
            switch (op) {
              case '>':
                return l > r
              case '<':
                return l < r
              case '>=':
                return l >= r
              case '<=':
                return l <= r
              case '=':
                return l === r
              case '!=':
              case '<>':
                return l !== r
              default:
                break
            }
          }
          try {
            return compareValues(op, l, r)
          } catch (err) {
            throw failureAt(err, pos)
          }
        }
      }
      case 'and':
      case 'or': {
        const left = this.expr(e.left)
        const right = this.expr(e.right)
        const isAnd = e.kind === 'and'
        const word = isAnd ? 'AND' : 'OR'
        return (env) => {
          const l = left(env)
          if (typeof l !== 'boolean') throw new EvalFailure(`${word} needs true or false on both sides, got ${describe(l)} on the left`, e.left.pos)
          if (l !== isAnd) return l // false AND ..., true OR ...
          const r = right(env)
          if (typeof r !== 'boolean') throw new EvalFailure(`${word} needs true or false on both sides, got ${describe(r)} on the right`, e.right.pos)
          return r
        }
      }
      case 'not': {
        const operand = this.expr(e.operand)
        // EMQX: NOT of anything but a boolean is false.
        return (env) => {
          const v = operand(env)
          return typeof v === 'boolean' ? !v : false
        }
      }
      case 'in': {
        const operand = this.expr(e.operand)
        const list = e.list.map((x) => this.expr(x))
        const negated = e.negated
        return (env) => {
          const v = operand(env)
          for (const item of list) if (deepEqual(v, item(env))) return !negated
          return negated
        }
      }
      case 'list': {
        const items = e.items.map((x) => this.expr(x))
        return (env) => items.map((item) => item(env))
      }
      case 'range': {
        const { from, to, pos } = e
        if (to < from - 1) throw new RuleSqlError(pos, `the range [${from}..${to}] goes backwards: its end must be at least its start minus one`, [], undefined)
        if (to - from + 1 > MAX_RANGE_LENGTH) throw new RuleSqlError(pos, `the range [${from}..${to}] is too long (at most ${MAX_RANGE_LENGTH} elements)`, [], undefined)
        const values = rangeList(from, to)
        return () => values.slice()
      }
      case 'case': {
        const whens = e.whens.map((w) => ({ when: this.expr(w.when), then: this.expr(w.then) }))
        const otherwise = e.otherwise === undefined ? undefined : this.expr(e.otherwise)
        if (e.subject === undefined) {
          return (env) => {
            for (const w of whens) if (w.when(env) === true) return w.then(env)
            return otherwise === undefined ? undefined : otherwise(env)
          }
        }
        const subject = this.expr(e.subject)
        return (env) => {
          const s = subject(env)
          for (const w of whens) if (deepEqual(s, w.when(env))) return w.then(env)
          return otherwise === undefined ? undefined : otherwise(env)
        }
      }
    }
  }

  /** A field of the output or the event, then steps into it (with the payload decoded when it is the root). */
  private path(name: string, steps: readonly PathStep[], pos: SourcePos): Fn {
    const get = getter(name)
    if (steps.length === 0) {
      // A plain field (`payload` alone is the raw payload: decoding happens only under a path).
      return (env) => {
        const a = env.a
        if (a !== undefined) {
          if (env.override) {
            if (Object.hasOwn(a, name)) return a[name]
          } else {
            const v = get(a)
            if (v !== undefined) return v
          }
        }
        return get(env.b)
      }
    }
    const isPayload = name === 'payload'
    const walk = this.steps(steps)
    const resolve = (env: Env, layer: PlainObject): unknown => {
      let v = get(layer)
      if (v === undefined) return undefined
      if (isPayload) v = decodedPayload(env, v)
      return walk(v, env)
    }
    return (env) => {
      try {
        const a = env.a
        if (a !== undefined) {
          if (env.override) {
            if (Object.hasOwn(a, name)) return resolve(env, a)
          } else {
            const v = resolve(env, a)
            if (v !== undefined) return v
          }
        }
        return resolve(env, env.b)
      } catch (err) {
        throw failureAt(err, pos)
      }
    }
  }

  /** Steps into the value of any expression (`json_decode(x).a`, `(x)[1]`). */
  private valuePath(base: Fn, steps: readonly PathStep[]): Fn {
    const walk = this.steps(steps)
    return (env) => walk(base(env), env)
  }

  private steps(steps: readonly PathStep[]): (v: unknown, env: Env) => unknown {
    const fns = steps.map((s): ((v: unknown, env: Env) => unknown) => {
      if (s.kind === 'key') {
        const key = s.key
        return (v) => getKey(v, key)
      }
      const index = s.index
      if (index.kind === 'literal' && typeof index.value === 'number') {
        const n = index.value
        return (v) => getIndex(v, n)
      }
      if (index.kind === 'unary' && index.op === '-' && index.operand.kind === 'literal' && typeof index.operand.value === 'number') {
        const n = -index.operand.value
        return (v) => getIndex(v, n)
      }
      const fn = this.expr(index)
      return (v, env) => getIndex(v, fn(env))
    })
    if (fns.length === 1) return fns[0]!
    return (v, env) => {
      let cur = v
      for (const f of fns) {
        cur = f(cur, env)
        if (cur === undefined) return undefined
      }
      return cur
    }
  }

  private call(e: CallExpr): Fn {
    const { pos } = e
    const name = e.name
    const args = e.args.map((a) => this.expr(a))
    const lower = name.toLowerCase()
    if (lower === 'div' || lower === 'mod') {
      // The operators in function form: div(7, 2), mod(3, 2).
      if (args.length !== 2) throw new RuleSqlError(pos, `${lower}() takes 2 arguments, got ${args.length}`, [], name)
      const [l, r] = args as [Fn, Fn]
      const op = lower
      return (env) => {
        try {
          return arith(op, l(env), r(env))
        } catch (err) {
          throw failureAt(err, pos)
        }
      }
    }
    const fn = this.resolveFunction(name, pos, args.length)
    this.checkCall(e)
    const label = `${name}()`
    const finish = (r: unknown, env: Env): unknown => (typeof r === 'function' ? (r as (ctx: PlainObject) => unknown)(env.b) : r)
    const fail = (err: unknown): EvalFailure => failureAt(err, pos, `${label} failed`)
    switch (args.length) {
      case 0:
        return (env) => {
          try {
            return sized(env, finish(fn(), env), label, undefined)
          } catch (err) {
            throw fail(err)
          }
        }
      case 1: {
        const a0 = args[0]!
        return (env) => {
          const x = a0(env)
          try {
            return sized(env, finish(fn(x), env), label, x)
          } catch (err) {
            throw fail(err)
          }
        }
      }
      case 2: {
        const [a0, a1] = args as [Fn, Fn]
        return (env) => {
          const x = a0(env)
          const y = a1(env)
          try {
            return sized(env, finish(fn(x, y), env), label, x, y)
          } catch (err) {
            throw fail(err)
          }
        }
      }
      default:
        return (env) => {
          const values = args.map((a) => a(env))
          try {
            return sized(env, finish(fn(...values), env), label, undefined, undefined, values)
          } catch (err) {
            throw fail(err)
          }
        }
    }
  }

  private checkCall(e: CallExpr): void {
    const lower = e.name.toLowerCase()
    const check = this.checks?.get(lower.startsWith('emqx_rule_funcs.') ? lower.slice('emqx_rule_funcs.'.length) : lower)
    if (check === undefined) return
    try {
      check(e.args.map((a) => (a.kind === 'literal' ? { literal: true as const, value: a.value } : { literal: false as const })))
    } catch (err) {
      // A check may name the argument at fault (`argument`, 0-based) and what to do (`hint`).
      const { argument, hint } = err as { argument?: unknown; hint?: unknown }
      const at = (typeof argument === 'number' ? e.args[argument]?.pos : undefined) ?? e.pos
      const detail = err instanceof Error ? err.message : String(err)
      throw new RuleSqlError(at, detail, [], undefined, typeof hint === 'string' ? hint : undefined)
    }
  }

  private resolveFunction(name: string, pos: SourcePos, argc: number): RuleFunction {
    let fname = name
    const dot = name.indexOf('.')
    if (dot !== -1) {
      const module = name.slice(0, dot)
      // EMQX calls `module.function(...)` in other Erlang modules; only its built-in module maps here.
      if (module.toLowerCase() !== 'emqx_rule_funcs') {
        throw new RuleSqlError(pos, `unknown function module "${module}": only the built-in functions can be called`, [], name)
      }
      fname = name.slice(dot + 1)
    }
    const fn = this.functions.get(fname.toLowerCase())
    if (fn === undefined) throw new RuleSqlError(pos, `unknown function "${fname}"`, [], fname)
    const arity = this.arity?.get(fname.toLowerCase())
    if (arity !== undefined && (argc < arity.min || argc > arity.max)) {
      const { min, max } = arity
      const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`
      throw new RuleSqlError(pos, `${fname}() takes ${want} argument${min === 1 && max === 1 ? '' : 's'}, got ${argc}`, [], fname)
    }
    return fn
  }
}

function staticAlias(steps: PutStep[]): CompiledAlias {
  const only = steps[0]
  const name = steps.length === 1 && only !== undefined && 'key' in only ? only.key : undefined
  return { steps, dynamic: undefined, name }
}

function indexAliasStep(s: Extract<PathStep, { kind: 'index' }>): AliasPath['steps'][number] {
  const e = s.index
  // EMQX: `[0]` means the head of the list and `[-0]` its tail when the path is used as a key.
  if (e.kind === 'literal' && typeof e.value === 'number') return { kind: 'index', index: e.value === 0 ? 'head' : e.value, pos: s.pos }
  if (e.kind === 'unary' && e.op === '-' && e.operand.kind === 'literal' && typeof e.operand.value === 'number') {
    return { kind: 'index', index: e.operand.value === 0 ? 'tail' : -e.operand.value, pos: s.pos }
  }
  return { kind: 'dynamic-index', index: e, pos: s.pos }
}

/** Puts a field's value at its alias in `target`; returns the target (a copy when not owned). */
function putField(target: PlainObject, f: CompiledField, value: unknown, env: Env, owned: boolean): PlainObject {
  const alias = f.alias
  if (alias.name !== undefined && owned) {
    ownSet(target, alias.name, value)
    return target
  }
  const steps = alias.steps ?? alias.dynamic!(env)
  let root = target
  let rootOwned = owned
  const first = steps[0]
  if (steps.length > 1 && first !== undefined && 'key' in first && first.key === 'payload') {
    // Putting into payload.<...> decodes a JSON payload already in the target first (EMQX does the same).
    const current = ownGet(root, 'payload')
    if (asText(current) !== undefined) {
      let decoded: unknown
      try {
        decoded = decodedPayload(env, current)
      } catch (err) {
        throw failureAt(err, f.pos)
      }
      if (!rootOwned) {
        root = { ...root }
        rootOwned = true
      }
      ownSet(root, 'payload', decoded)
    }
  }
  return putPath(root, steps, value, rootOwned)
}

function selectInto(out: PlainObject, fields: readonly CompiledField[], env: Env, columns: PlainObject): void {
  for (const f of fields) {
    if (f.star) {
      // `*`: every field of the event; the event wins over fields selected before it (EMQX maps:merge).
      mergeInto(out, columns)
      continue
    }
    putField(out, f, f.value(env), env, true)
  }
}

/** Evaluates WHERE or INCASE against `selected` merged over `columns`: true, false, or an error. */
function condition(clause: RuleClause, cond: Fn, env: Env, selected: PlainObject | undefined, columns: PlainObject, pos: SourcePos): boolean {
  env.a = selected
  env.override = true
  env.b = columns
  let v: unknown
  try {
    v = cond(env)
  } catch (err) {
    throw toEvalError(clause, err)
  }
  if (v === true) return true
  if (v === false) return false
  throw new RuleEvalError(`the condition must be true or false, got ${describe(v)}`, { clause, pos })
}

function runPhase(clause: RuleClause, body: () => void): void {
  try {
    body()
  } catch (err) {
    throw toEvalError(clause, err)
  }
}

function toEvalError(clause: RuleClause, err: unknown): RuleEvalError {
  if (err instanceof RuleEvalError) return err
  if (err instanceof EvalFailure) return new RuleEvalError(err.message, { clause, ...(err.pos === undefined ? {} : { pos: err.pos }), cause: err.cause })
  const msg = err instanceof Error ? err.message : String(err)
  return new RuleEvalError(msg, { clause, cause: err })
}

function checkSource(s: Source): string {
  const topic = s.topic
  if (topic.startsWith('$bridges/') || topic.startsWith('$sources/')) {
    if (topic.indexOf('/') === topic.length - 1) throw new RuleSqlError(s.pos, `"${topic}" names no data source`, [], topic)
    return topic
  }
  if (topic.startsWith('$events/')) {
    if (topic === MESSAGE_PUBLISH_EVENT_TOPIC) {
      throw new RuleSqlError(s.pos, `"${topic}" cannot be used in FROM: select the MQTT topic filter of the messages instead (e.g. "t/#")`, [], topic)
    }
    if (EVENT_NAMES[topic] !== undefined) return topic
    throw new RuleSqlError(s.pos, `unknown event topic "${topic}"; the event topics are: ${DOCUMENTED_EVENT_TOPICS.join(', ')}`, DOCUMENTED_EVENT_TOPICS, topic)
  }
  const problem = topicFilterProblem(topic)
  if (problem !== undefined) throw new RuleSqlError(s.pos, `invalid topic filter "${topic}": ${problem}`, [], topic)
  return topic
}

/** Parses and compiles a rule SQL statement; throws RuleSqlError. */
export function compileStatement(sql: string, options: CompileOptions): CompiledRuleSql {
  const stmt = parseRuleSql(sql)
  return new Compiler(options.functions, options.arity, options.checks).statement(stmt)
}
