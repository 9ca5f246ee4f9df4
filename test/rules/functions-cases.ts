/**
 * Data-table runner for the rule-function tests: each case is [function name, arguments, expected],
 * where expected is a value (compared with deepStrictEqual), err(/message/), approx(x) or
 * bytes('hex') (a binary result whose bytes are given, whether it comes back as string or Buffer).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Bitstring, RuleFunctionError, ruleFunctionArity, ruleFunctions } from '../../src/rules/functions/index.js'
import type { FunctionFamily } from '../../src/rules/functions/values.js'

const ERROR: unique symbol = Symbol('error')
const APPROX: unique symbol = Symbol('approx')
const BYTES: unique symbol = Symbol('bytes')

interface ErrorExpectation {
  readonly [ERROR]: RegExp
}
interface ApproxExpectation {
  readonly [APPROX]: number
  readonly tolerance: number
}
interface BytesExpectation {
  readonly [BYTES]: string
}

/** The call fails with a RuleFunctionError whose message matches. */
export const err = (pattern: RegExp): ErrorExpectation => ({ [ERROR]: pattern })
/** A number within `tolerance` (relative to the value's size, at least absolute 1e-15). */
export const approx = (value: number, tolerance = 1e-14): ApproxExpectation => ({ [APPROX]: value, tolerance })
/** A binary with exactly these bytes. */
export const bytes = (hex: string): BytesExpectation => ({ [BYTES]: hex.toLowerCase() })
/** A Buffer of these bytes. */
export const buf = (...b: number[]): Buffer => Buffer.from(b)
/** A bitstring made of [value, size in bits] segments, like Erlang's <<1:5, 2>>. */
export function bits(...segments: [value: number, size: number][]): Bitstring | Buffer {
  let v = 0n
  let n = 0
  for (const [value, size] of segments) {
    v = (v << BigInt(size)) | (BigInt(value) & ((1n << BigInt(size)) - 1n))
    n += size
  }
  const out = new Uint8Array(Math.ceil(n / 8))
  const aligned = v << BigInt(out.length * 8 - n)
  for (let i = 0; i < out.length; i++) out[i] = Number((aligned >> BigInt(8 * (out.length - 1 - i))) & 0xffn)
  return n % 8 === 0 ? Buffer.from(out) : new Bitstring(out, n)
}

export type Case = readonly [name: string, args: readonly unknown[], expected: unknown]

function show(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (v instanceof Bitstring) return `<bits:${v.bitLength}>`
  if (v instanceof Uint8Array) return `<${Buffer.from(v).toString('hex')}>`
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

function hasKey<K extends symbol>(v: unknown, key: K): v is Record<K, unknown> {
  return typeof v === 'object' && v !== null && key in v
}

/** Runs one it() per case against the registry (or against `family`, e.g. time functions with a fixed clock). */
export function runCases(title: string, cases: readonly Case[], family?: FunctionFamily): void {
  describe(title, () => {
    for (const [name, args, expected] of cases) {
      it(`${name}(${args.map(show).join(', ')})`, () => {
        const entry = family ? family[name] : undefined
        const fn = family ? entry?.fn : ruleFunctions.get(name)
        const arity = family ? entry : ruleFunctionArity.get(name)
        assert.ok(fn && arity, `no function ${name}`)
        assert.ok(args.length >= arity.min && args.length <= arity.max, `${name} does not take ${args.length} arguments`)
        if (hasKey(expected, ERROR)) {
          assert.throws(
            () => fn(...args),
            (e: unknown) => {
              assert.ok(e instanceof RuleFunctionError, `expected a RuleFunctionError, got ${String(e)}`)
              assert.ok(e.message.startsWith(`${name}: `), `message should name the function: ${e.message}`)
              assert.match(e.message, expected[ERROR] as RegExp)
              return true
            },
          )
          return
        }
        const actual = fn(...args)
        if (hasKey(expected, APPROX)) {
          const want = expected[APPROX] as number
          assert.equal(typeof actual, 'number')
          const tolerance = Math.max(1e-15, Math.abs(want) * (expected as ApproxExpectation).tolerance)
          assert.ok(Math.abs((actual as number) - want) <= tolerance, `${String(actual)} is not close to ${want}`)
        } else if (hasKey(expected, BYTES)) {
          assert.ok(typeof actual === 'string' || actual instanceof Uint8Array, `expected a binary, got ${show(actual)}`)
          assert.equal(Buffer.from(actual as string).toString('hex'), expected[BYTES])
        } else {
          assert.deepStrictEqual(actual, expected)
        }
      })
    }
  })
}

/** Calls a registered function directly (for tests that compose calls). */
export function call(name: string, ...args: unknown[]): unknown {
  const fn = ruleFunctions.get(name)
  assert.ok(fn, `no function ${name}`)
  return fn(...args)
}
