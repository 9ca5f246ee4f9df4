import type { BuiltinActionDefinition } from './builtin-action.js'
import { republishAction } from './republish.js'

/** The actions Junction performs itself, by the name rules give in `builtin`. */
export const builtinActions: readonly BuiltinActionDefinition[] = [republishAction]
