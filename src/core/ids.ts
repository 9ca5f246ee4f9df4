import { randomInt } from 'node:crypto'

// No 0/o, 1/l/i: IDs are read off a screen and typed to confirm a deletion.
const ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz'

/** A short random ID such as `c-k7m2x9qp` (31^8 ≈ 8.5e11 values; the store's key rejects a clash). */
export function newId(prefix: 'c' | 'd' | 'r' | 'k'): string {
  let s = ''
  for (let i = 0; i < 8; i++) s += ALPHABET[randomInt(ALPHABET.length)]
  return `${prefix}-${s}`
}

export const ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,63}$'
