// Mathematical and bit operation functions: EMQX docs examples, emqx_rule_funcs_SUITE cases, edges.
import { type Case, approx, err, runCases } from './functions-cases.js'

const math: Case[] = [
  // EMQX docs
  ['abs', [-12], 12],
  ['abs', [-1.2], 1.2],
  ['acos', [0.5], approx(1.0471975511965976)],
  ['acosh', [1.5], approx(0.9624236501192069)],
  ['asin', [0.5], approx(0.5235987755982988)],
  ['asinh', [0.5], approx(0.48121182505960347)],
  ['atan', [0.5], approx(0.46364760900080615)],
  ['atanh', [0.5], approx(0.5493061443340549)],
  ['ceil', [0.8], 1],
  ['cos', [0.5], approx(0.8775825618903728)],
  ['cosh', [0.5], approx(1.1276259652063807)],
  ['exp', [1], approx(2.718281828459045)],
  ['floor', [3.6], 3],
  ['fmod', [6.5, 2.5], 1.5],
  ['log', [7.38905609893065], approx(2)],
  ['log10', [100], 2],
  ['log2', [8], 3],
  ['log2', [8.5], approx(3.0874628412503395)],
  ['round', [4.5], 5],
  ['power', [2, 3], 8],
  ['sin', [0.5], approx(0.479425538604203)],
  ['sinh', [0.5], approx(0.5210953054937474)],
  ['sqrt', [9], 3],
  ['tan', [0.5], approx(0.5463024898437905)],
  ['tanh', [0.5], approx(0.46211715726000974)],
  // integers out of ceil/floor/round; Erlang rounds halves away from zero
  ['round', [-4.5], -5],
  ['round', [-4.4], -4],
  ['round', [2.5], 3],
  ['ceil', [-0.5], 0],
  ['floor', [-0.5], -1],
  ['ceil', [7], 7],
  ['abs', [0], 0],
  ['fmod', [-7, 3], -1],
  ['power', [2, 0.5], approx(Math.SQRT2)],
  ['power', [10, -2], approx(0.01)],
  // what Erlang cannot represent is badarith
  ['sqrt', [-1], err(/not a finite number/)],
  ['log', [0], err(/not a finite number/)],
  ['log10', [-1], err(/not a finite number/)],
  ['acos', [2], err(/not a finite number/)],
  ['exp', [1000], err(/not a finite number/)],
  ['fmod', [1, 0], err(/not a finite number/)],
  ['power', [0, -1], err(/not a finite number/)],
  // wrong types
  ['abs', ['x'], err(/^abs: expected a number, got "x"$/)],
  ['ceil', [null], err(/expected a number, got null/)],
  ['sin', [undefined], err(/expected a number, got undefined/)],
  ['power', [2, '3'], err(/expected a number, got "3"/)],
  ['sqrt', [[4]], err(/expected a number, got an array/)],
]

const bitwise: Case[] = [
  // EMQX docs
  ['bitand', [10, 8], 8],
  ['bitand', [-10, -8], -16],
  ['bitnot', [10], -11],
  ['bitnot', [-12], 11],
  ['bitsl', [8, 2], 32],
  ['bitsl', [-8, 2], -32],
  ['bitsr', [8, 2], 2],
  ['bitsr', [8, 4], 0],
  ['bitsr', [-8, 2], -2],
  ['bitsr', [-8, 6], -1],
  ['bitor', [10, 8], 10],
  ['bitor', [-10, -8], -2],
  ['bitxor', [10, 8], 2],
  ['bitxor', [-10, -8], 14],
  // beyond JavaScript's 32-bit operators, exactly as Erlang's integers
  ['bitsl', [1, 40], 1099511627776],
  ['bitand', [2 ** 40 + 5, 7], 5],
  ['bitor', [2 ** 40, 1], 1099511627777],
  ['bitnot', [2 ** 40], -1099511627777],
  ['bitxor', [2 ** 33, 2 ** 33 + 1], 1],
  ['bitsr', [2 ** 50, 48], 4],
  // a negative count shifts the other way, as Erlang's bsl/bsr
  ['bitsl', [8, -2], 2],
  ['bitsr', [1, -3], 8],
  ['bitsr', [-1, 2000], -1],
  ['bitsl', [0, 5000], 0],
  ['bitsl', [1, 60], err(/outside the exact integer range/)],
  ['bitand', [1.5, 1], err(/^bitand: expected an integer, got 1.5$/)],
  ['bitor', ['1', 1], err(/expected an integer/)],
  ['bitsr', [4, 0.5], err(/expected an integer shift count/)],
]

runCases('math functions', math)
runCases('bit operation functions', bitwise)
