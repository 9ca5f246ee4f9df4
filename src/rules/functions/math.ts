/**
 * Mathematical functions (EMQX: "Mathematical Functions"). Results that Erlang cannot represent
 * (NaN, ±Infinity: sqrt(-1), log(0), acos(2), exp(1000), fmod(1, 0)) are errors, as EMQX raises
 * badarith. ceil/floor/round return integers; round rounds halves away from zero (round(-4.5) = -5).
 */
import { type FunctionFamily, fail, numberArg, spec } from './values.js'

function finite(name: string, x: number): number {
  if (!Number.isFinite(x)) fail(name, 'result is not a finite number (out of the function\'s domain or range)')
  return x
}

function unary(name: string, f: (x: number) => number) {
  return spec(1, 1, (x) => finite(name, f(numberArg(name, x))))
}

function roundHalfAway(x: number): number {
  const r = Math.sign(x) * Math.round(Math.abs(x))
  return r === 0 ? 0 : r
}

export const mathFunctions: FunctionFamily = {
  abs: unary('abs', Math.abs),
  acos: unary('acos', Math.acos),
  acosh: unary('acosh', Math.acosh),
  asin: unary('asin', Math.asin),
  asinh: unary('asinh', Math.asinh),
  atan: unary('atan', Math.atan),
  atanh: unary('atanh', Math.atanh),
  ceil: unary('ceil', (x) => Math.ceil(x) || 0),
  cos: unary('cos', Math.cos),
  cosh: unary('cosh', Math.cosh),
  exp: unary('exp', Math.exp),
  floor: unary('floor', (x) => Math.floor(x) || 0),
  fmod: spec(2, 2, (x, y) => finite('fmod', numberArg('fmod', x) % numberArg('fmod', y))),
  log: unary('log', Math.log),
  log10: unary('log10', Math.log10),
  log2: unary('log2', Math.log2),
  power: spec(2, 2, (x, y) => finite('power', Math.pow(numberArg('power', x), numberArg('power', y)))),
  random: spec(0, 0, () => Math.random()),
  round: unary('round', roundHalfAway),
  sin: unary('sin', Math.sin),
  sinh: unary('sinh', Math.sinh),
  sqrt: unary('sqrt', Math.sqrt),
  tan: unary('tan', Math.tan),
  tanh: unary('tanh', Math.tanh),
}
