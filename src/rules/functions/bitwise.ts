/**
 * Bit operations (EMQX: "Bit Operation Functions") on signed integers of any size, computed
 * exactly (BigInt, like Erlang's bignums) rather than JavaScript's 32-bit operators. A result
 * beyond ±(2^53 − 1) cannot be held exactly by a JavaScript number and is an error.
 * A negative shift count shifts the other way, as in Erlang.
 */
import { type FunctionFamily, fail, integerArg, spec } from './values.js'

const MAX_SHIFT = 1024

function big(name: string, v: unknown): bigint {
  return BigInt(integerArg(name, v))
}

function result(name: string, r: bigint): number {
  if (r > BigInt(Number.MAX_SAFE_INTEGER) || r < BigInt(Number.MIN_SAFE_INTEGER)) {
    fail(name, `result ${r} is outside the exact integer range ±(2^53 - 1)`)
  }
  return Number(r)
}

function shift(name: string, x: unknown, n: unknown, left: boolean): number {
  const value = big(name, x)
  const count = integerArg(name, n, 'an integer shift count')
  if (Math.abs(count) > MAX_SHIFT) {
    const towardsLeft = left === (count > 0)
    if (towardsLeft && value !== 0n) fail(name, `result is outside the exact integer range ±(2^53 - 1)`)
    if (!towardsLeft) return value < 0n ? -1 : 0
  }
  const c = BigInt(count)
  return result(name, left ? value << c : value >> c)
}

export const bitwiseFunctions: FunctionFamily = {
  bitand: spec(2, 2, (a, b) => result('bitand', big('bitand', a) & big('bitand', b))),
  bitnot: spec(1, 1, (a) => result('bitnot', ~big('bitnot', a))),
  bitor: spec(2, 2, (a, b) => result('bitor', big('bitor', a) | big('bitor', b))),
  bitsl: spec(2, 2, (x, n) => shift('bitsl', x, n, true)),
  bitsr: spec(2, 2, (x, n) => shift('bitsr', x, n, false)),
  bitxor: spec(2, 2, (a, b) => result('bitxor', big('bitxor', a) ^ big('bitxor', b))),
}
