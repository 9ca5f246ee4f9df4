/**
 * Topic names and topic filters (MQTT 3.1.1 section 4.7, 5.0 sections 4.7 and 4.8.2), on
 * decoded strings. UTF-8 well-formedness is checked where the bytes are decoded.
 */

/** A topic name (what PUBLISH and a will carry): at least one character, no wildcard. */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && !hasWildcard(topic)
}

export function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#')
}

/**
 * A topic filter: at least one character; `#` only as a whole last level; `+` only as a whole
 * level. On MQTT 5, `$share/{name}/{filter}` also needs a non-empty share name without `+` or `#`
 * and a valid filter after it.
 */
export function isValidTopicFilter(filter: string, protocolVersion: number): boolean {
  if (filter.length === 0) return false
  if (protocolVersion === 5 && filter.startsWith('$share/')) {
    const nameEnd = filter.indexOf('/', 7)
    if (nameEnd <= 7) return false
    const shareName = filter.slice(7, nameEnd)
    if (hasWildcard(shareName)) return false
    return isValidPlainFilter(filter.slice(nameEnd + 1))
  }
  return isValidPlainFilter(filter)
}

/** Whether a (valid) filter is a shared subscription's, on MQTT 5. */
export function isSharedFilter(filter: string, protocolVersion: number): boolean {
  return protocolVersion === 5 && filter.startsWith('$share/')
}

function isValidPlainFilter(filter: string): boolean {
  if (filter.length === 0) return false
  if (!hasWildcard(filter)) return true
  const last = filter.length - 1
  for (let i = 0; i <= last; i++) {
    const c = filter.charCodeAt(i)
    if (c === 0x23 /* # */) {
      if (i !== last || (i > 0 && filter.charCodeAt(i - 1) !== 0x2f)) return false
    } else if (c === 0x2b /* + */) {
      if (i > 0 && filter.charCodeAt(i - 1) !== 0x2f) return false
      if (i < last && filter.charCodeAt(i + 1) !== 0x2f) return false
    }
  }
  return true
}
