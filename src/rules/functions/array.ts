/**
 * Array functions (EMQX: "Array Operation Functions"). Positions are 1-based as in EMQX;
 * out-of-range positions are errors where EMQX raises one (nth, first/last of an empty array,
 * a sublist start past the end + 1).
 */
import { type FunctionFamily, arrayArg, deepEqual, fail, integerArg, spec } from './values.js'

function nth(n: unknown, list: unknown): unknown {
  const i = integerArg('nth', n, 'an integer position')
  const a = arrayArg('nth', list)
  if (i < 1 || i > a.length) fail('nth', `position ${i} is out of range 1..${a.length}`)
  return a[i - 1]
}

function sublist(args: readonly unknown[]): unknown[] {
  const name = 'sublist'
  if (args.length === 2) {
    const len = integerArg(name, args[0], 'an integer length')
    const a = arrayArg(name, args[1])
    if (len < 0) fail(name, `length must not be negative, got ${len}`)
    return a.slice(0, len)
  }
  const start = integerArg(name, args[0], 'an integer start')
  const len = integerArg(name, args[1], 'an integer length')
  const a = arrayArg(name, args[2])
  if (len < 0) fail(name, `length must not be negative, got ${len}`)
  if (start < 1 || start > a.length + 1) fail(name, `start ${start} is out of range 1..${a.length + 1}`)
  return a.slice(start - 1, start - 1 + len)
}

export const arrayFunctions: FunctionFamily = {
  contains: spec(2, 2, (item, list) => arrayArg('contains', list).some((x) => deepEqual(x, item))),
  first: spec(1, 1, (list) => {
    const a = arrayArg('first', list)
    if (a.length === 0) fail('first', 'the array is empty')
    return a[0]
  }),
  last: spec(1, 1, (list) => {
    const a = arrayArg('last', list)
    if (a.length === 0) fail('last', 'the array is empty')
    return a[a.length - 1]
  }),
  length: spec(1, 1, (list) => arrayArg('length', list).length),
  nth: spec(2, 2, nth),
  sublist: spec(2, 3, (...args) => sublist(args)),
}
