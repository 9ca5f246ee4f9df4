/**
 * Conditional functions (EMQX: "Conditional Functions"). coalesce returns the first argument that
 * is not null (undefined: a missing value); coalesce_ne also skips ''. With one argument, it must
 * be an array and the first suitable element is returned. Note that JSON null is a value here, as
 * in EMQX (is_null(null) is false).
 */
import { type FunctionFamily, arrayArg, isBinary, spec } from './values.js'

function candidates(name: string, args: readonly unknown[]): readonly unknown[] {
  return args.length === 1 ? arrayArg(name, args[0], 'an array (with one argument)') : args
}

export const conditionalFunctions: FunctionFamily = {
  coalesce: spec(1, 2, (...args) => candidates('coalesce', args).find((v) => v !== undefined)),
  coalesce_ne: spec(1, 2, (...args) =>
    candidates('coalesce_ne', args).find((v) => v !== undefined && !(isBinary(v) && v.length === 0)),
  ),
}
