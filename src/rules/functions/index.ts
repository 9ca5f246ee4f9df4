/**
 * The built-in function library of rule SQL, as EMQX documents it ("Built-in SQL Functions"),
 * one module per family. See README.md in this folder for the list, the status of each function
 * and how EMQX's Erlang values map to JavaScript.
 */
import { arrayFunctions } from './array.js'
import { bitwiseFunctions } from './bitwise.js'
import { bytesFunctions } from './bytes.js'
import { compressionFunctions } from './compression.js'
import { conditionalFunctions } from './conditional.js'
import { contextFunctions } from './context.js'
import { encodingFunctions } from './encoding.js'
import { hashingFunctions } from './hashing.js'
import { jqFunctions } from './jq.js'
import { mapFunctions } from './map.js'
import { mathFunctions } from './math.js'
import { stringFunctions } from './string.js'
import { systemFunctions } from './system.js'
import { timeFunctions } from './time.js'
import { topicFunctions } from './topic.js'
import { typeConversionFunctions } from './type-conversion.js'
import { uuidFunctions } from './uuid.js'
import type { CompileTimeCheck, FunctionFamily, RuleFunction } from './values.js'

export { Bitstring, RuleFunctionError } from './values.js'
export type { CompileTimeArg, CompileTimeCheck, RuleFunction } from './values.js'
export { createTimeFunctions } from './time.js'

/** Every family, in EMQX's documentation order. */
export const ruleFunctionFamilies: Readonly<Record<string, FunctionFamily>> = {
  math: mathFunctions,
  typeConversion: typeConversionFunctions,
  string: stringFunctions,
  map: mapFunctions,
  array: arrayFunctions,
  hashing: hashingFunctions,
  compression: compressionFunctions,
  bitwise: bitwiseFunctions,
  bytes: bytesFunctions,
  encoding: encodingFunctions,
  time: timeFunctions,
  uuid: uuidFunctions,
  system: systemFunctions,
  conditional: conditionalFunctions,
  topic: topicFunctions,
  jq: jqFunctions,
  context: contextFunctions,
}

const functions = new Map<string, RuleFunction>()
const arity = new Map<string, { min: number; max: number }>()
const checks = new Map<string, CompileTimeCheck>()
for (const [familyName, family] of Object.entries(ruleFunctionFamilies)) {
  for (const [name, s] of Object.entries(family)) {
    if (functions.has(name)) throw new Error(`rule function ${name} is defined twice (again in ${familyName})`)
    functions.set(name, s.fn)
    arity.set(name, Object.freeze({ min: s.min, max: s.max }))
    if (s.check !== undefined) checks.set(name, s.check)
  }
}

/** Every built-in, by lower-case name. */
export const ruleFunctions: ReadonlyMap<string, RuleFunction> = functions

/** Minimum and maximum arity per name (max Infinity for variadic), so the compiler can reject bad calls at compile time. */
export const ruleFunctionArity: ReadonlyMap<string, { min: number; max: number }> = arity

/** Compile-time checks of calls with literal arguments (regular expressions), by name. */
export const ruleFunctionChecks: ReadonlyMap<string, CompileTimeCheck> = checks
