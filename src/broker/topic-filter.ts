/**
 * MQTT topic filters as EMQX matches them (emqx_topic:match): levels split on `/`, `+` matches one
 * level (an empty one too), `#` matches the rest including nothing (`a/#` matches `a`), and a topic
 * starting with `$` is matched only by filters whose first level is not a wildcard.
 */

/** Does `topic` (a concrete topic name) match `filter`? */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!
    if (level === '#' && i === f.length - 1) return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}
