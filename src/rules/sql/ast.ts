/**
 * The syntax tree of a rule SQL statement: immutable, kind-tagged unions. Every node carries the
 * position of its first token so compile-time and runtime errors can point at it.
 */
import type { SourcePos } from './errors.js'

export type Expr =
  | LiteralExpr
  | VarExpr
  | PathExpr
  | SliceExpr
  | CallExpr
  | UnaryExpr
  | BinaryExpr
  | CompareExpr
  | LogicalExpr
  | NotExpr
  | InExpr
  | ListExpr
  | RangeExpr
  | CaseExpr

/** `1`, `2.5`, `'text'`, `true`, `false`. */
export interface LiteralExpr {
  readonly kind: 'literal'
  readonly value: number | string | boolean
  readonly pos: SourcePos
}

/** A field of the event (or of the output so far): `clientid`, `"topic"`, `item`. */
export interface VarExpr {
  readonly kind: 'var'
  readonly name: string
  readonly pos: SourcePos
}

export type PathStep =
  /** `.key`, `.'key with spaces'`, `.1` (the key "1", not an index) */
  | { readonly kind: 'key'; readonly key: string; readonly pos: SourcePos }
  /** `[1]`, `[-1]` (1-based, negative counts from the end), `[i]`, `[i + 1]` */
  | { readonly kind: 'index'; readonly index: Expr; readonly pos: SourcePos }

/** `payload.a.b`, `payload.arr[1]`, `json_decode(x).a`: `base` then each step. */
export interface PathExpr {
  readonly kind: 'path'
  readonly base: Expr
  readonly steps: readonly PathStep[]
  readonly pos: SourcePos
}

/** `payload.arr[2..-1]`: a sub-list, both ends inclusive, 1-based, negative from the end. */
export interface SliceExpr {
  readonly kind: 'slice'
  readonly target: Expr
  readonly from: number
  readonly to: number
  readonly pos: SourcePos
}

/** `upper(clientid)`, `div(7, 2)`; `name` is as written. */
export interface CallExpr {
  readonly kind: 'call'
  readonly name: string
  readonly args: readonly Expr[]
  readonly pos: SourcePos
}

export interface UnaryExpr {
  readonly kind: 'unary'
  readonly op: '-' | '+'
  readonly operand: Expr
  readonly pos: SourcePos
}

export type ArithOp = '+' | '-' | '*' | '/' | 'div' | 'mod'

export interface BinaryExpr {
  readonly kind: 'binary'
  readonly op: ArithOp
  readonly left: Expr
  readonly right: Expr
  readonly pos: SourcePos
}

export type CompareOp = '=' | '!=' | '<>' | '<' | '>' | '<=' | '>=' | '=~'

export interface CompareExpr {
  readonly kind: 'compare'
  readonly op: CompareOp
  readonly left: Expr
  readonly right: Expr
  readonly pos: SourcePos
}

export interface LogicalExpr {
  readonly kind: 'and' | 'or'
  readonly left: Expr
  readonly right: Expr
  readonly pos: SourcePos
}

export interface NotExpr {
  readonly kind: 'not'
  readonly operand: Expr
  readonly pos: SourcePos
}

/** `x IN (1, 2)` / `x NOT IN (1, 2)`. */
export interface InExpr {
  readonly kind: 'in'
  readonly negated: boolean
  readonly operand: Expr
  readonly list: readonly Expr[]
  readonly pos: SourcePos
}

/** `[1, payload.a, 'x']`. */
export interface ListExpr {
  readonly kind: 'list'
  readonly items: readonly Expr[]
  readonly pos: SourcePos
}

/** `[1..4]`: the list of integers from..to. */
export interface RangeExpr {
  readonly kind: 'range'
  readonly from: number
  readonly to: number
  readonly pos: SourcePos
}

/** `CASE WHEN c THEN v ... ELSE e END`, or with a subject: `CASE x WHEN 1 THEN v ... END`. */
export interface CaseExpr {
  readonly kind: 'case'
  readonly subject: Expr | undefined
  readonly whens: readonly { readonly when: Expr; readonly then: Expr }[]
  readonly otherwise: Expr | undefined
  readonly pos: SourcePos
}

export type AliasStep =
  | { readonly kind: 'key'; readonly key: string; readonly pos: SourcePos }
  /** `[2]`, `[-1]`; `[0]` prepends to a list (`head`), `[-0]` appends (`tail`), as EMQX. */
  | { readonly kind: 'index'; readonly index: number | 'head' | 'tail'; readonly pos: SourcePos }
  /** `[i]`: an index taken from a field when the value is put. */
  | { readonly kind: 'dynamic-index'; readonly index: Expr; readonly pos: SourcePos }

/** Where a value goes in the output: `x`, `a.b`, `c[-0]`, `payload.data[1].name`. */
export interface AliasPath {
  readonly steps: readonly AliasStep[]
  readonly pos: SourcePos
}

export type SelectField =
  | { readonly kind: 'star'; readonly pos: SourcePos }
  | { readonly kind: 'field'; readonly expr: Expr; readonly alias: AliasPath | undefined; readonly pos: SourcePos }

export interface Source {
  /** The topic filter or event topic, unquoted. */
  readonly topic: string
  readonly pos: SourcePos
}

export interface SelectStatement {
  readonly kind: 'select'
  readonly fields: readonly SelectField[]
  readonly sources: readonly Source[]
  readonly where: Expr | undefined
}

export interface ForeachStatement {
  readonly kind: 'foreach'
  /** The FOREACH expressions; the last one gives the list to iterate. */
  readonly fields: readonly SelectField[]
  readonly doFields: readonly SelectField[] | undefined
  readonly incase: Expr | undefined
  readonly sources: readonly Source[]
  readonly where: Expr | undefined
}

export type Statement = SelectStatement | ForeachStatement
