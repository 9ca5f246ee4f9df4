import type { DeploymentRuntime } from './deployment-runtime.js'
import { ruleActionTotals } from './metrics.js'

/** Prometheus text exposition (format 0.0.4) of rules, actions and connector status. */
export function renderPrometheus(
  runtimes: Iterable<DeploymentRuntime>,
  connectors: Array<{ deploymentId: string; id: string; type: string; status: string; delivery?: string }>,
  logins: Array<{ deploymentId: string; succeeded: number; failed: number; anonymousRefused: number }> = [],
): string {
  const families = new Map<string, { help: string; type: 'counter' | 'gauge'; lines: string[] }>()
  const put = (name: string, type: 'counter' | 'gauge', help: string, labels: Record<string, string>, value: number) => {
    let f = families.get(name)
    if (!f) families.set(name, (f = { help, type, lines: [] }))
    const l = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')
    f.lines.push(`${name}{${l}} ${value}`)
  }
  for (const rt of runtimes) {
    for (const rule of rt.rules.ruleMetricsAll()) {
      const rl = { deployment: rt.id, rule: rule.id }
      const m = rule.metrics
      put('junction_rule_matched_total', 'counter', 'Messages whose topic matched the rule FROM.', rl, m.matched)
      put('junction_rule_passed_total', 'counter', 'Messages for which the rule produced output.', rl, m.passed)
      put('junction_rule_no_result_total', 'counter', 'Messages the WHERE clause filtered out.', rl, m.noResult)
      put('junction_rule_failed_total', 'counter', 'Messages on which the SQL failed.', rl, m.failed)
      const t = ruleActionTotals(rule.actions.map((a) => a.metrics))
      put('junction_rule_actions_total', 'counter', "Outputs handed to the rule's actions (EMQX actions.total).", rl, t.total)
      put('junction_rule_actions_success_total', 'counter', "Outputs the rule's actions delivered (EMQX actions.success).", rl, t.success)
      put('junction_rule_actions_failed_total', 'counter', "Outputs the rule's actions failed for good (EMQX actions.failed).", rl, t.failed)
      put('junction_rule_actions_discarded_total', 'counter', "Outputs the rule's actions dropped (EMQX actions.discarded).", rl, t.discarded)
      for (const a of rule.actions) {
        const al = { ...rl, action: String(a.index), target: a.target }
        const x = a.metrics
        put('junction_action_matched_total', 'counter', 'Outputs handed to the action.', al, x.matched)
        put('junction_action_success_total', 'counter', 'Outputs the resource acknowledged.', al, x.success)
        put('junction_action_failed_total', 'counter', 'Outputs that failed permanently.', al, x.failed)
        put('junction_action_retried_total', 'counter', 'Send attempts that were retried.', al, x.retried)
        for (const [reason, n] of Object.entries(x.dropped)) put('junction_action_dropped_total', 'counter', 'Outputs dropped, by reason.', { ...al, reason }, n)
        put('junction_action_queuing', 'gauge', 'Outputs waiting in the action queue.', al, x.queuing)
        put('junction_action_inflight', 'gauge', 'Outputs sent and not yet acknowledged.', al, x.inflight)
        const health = x.health().state
        put('junction_action_failing', 'gauge', '1 when the action\'s recent sends fail (health failing).', al, health === 'failing' ? 1 : 0)
        put('junction_action_stalled', 'gauge', '1 when messages wait and nothing was delivered for a while (health stalled).', al, health === 'stalled' ? 1 : 0)
        if (a.failedMessages) {
          put('junction_action_failed_stored', 'gauge', 'Messages kept in the action\'s failed-message store (keepFailed).', al, a.failedMessages.stored)
          put('junction_action_failed_evicted_total', 'counter', 'Kept failed messages removed because the store was full (oldest first).', al, a.failedMessages.evicted)
        }
      }
    }
  }
  for (const rt of runtimes) {
    const b = rt.brokerStats()
    if (!b) continue
    const dl = { deployment: rt.id }
    put('junction_mqtt_connections', 'gauge', 'MQTT clients connected now.', dl, b.connections)
    put('junction_mqtt_sessions', 'gauge', 'MQTT sessions kept (connected or persistent).', dl, b.sessions)
    put('junction_mqtt_subscriptions', 'gauge', 'Subscriptions of all sessions.', dl, b.subscriptions)
    put('junction_mqtt_retained', 'gauge', 'Retained messages.', dl, b.retained)
    put('junction_mqtt_queued', 'gauge', 'Messages waiting in session queues.', dl, b.queued)
    put('junction_mqtt_inflight', 'gauge', 'Messages written to subscribers and not yet acknowledged.', dl, b.inflight)
    put('junction_mqtt_messages_received_total', 'counter', 'PUBLISH packets received from clients.', dl, b.received)
    put('junction_mqtt_messages_sent_total', 'counter', 'Messages written to subscribers.', dl, b.sent)
    put('junction_mqtt_messages_no_subscribers_total', 'counter', 'Client messages no subscription took.', dl, b.noSubscribers)
    put('junction_mqtt_connack_refused_total', 'counter', 'CONNECTs answered with a failure reason code.', dl, b.connackRefused)
    for (const [reason, n] of Object.entries(b.dropped)) put('junction_mqtt_delivery_dropped_total', 'counter', 'Messages lost for one subscriber, by reason (queue_full, expired, no_local, qos0_msg, too_large).', { ...dl, reason }, n)
  }
  for (const rt of runtimes) {
    const e = rt.externalStats()
    if (!e) continue
    const dl = { deployment: rt.id }
    put('junction_external_broker_connected', 'gauge', '1 when the deployment is connected to its external broker.', dl, e.connected ? 1 : 0)
    put('junction_external_broker_messages_received_total', 'counter', 'Messages received from the external broker and run through the rules.', dl, e.received)
    put('junction_external_broker_messages_refused_total', 'counter', 'Messages from the external broker that Junction could not take or an on-delivery action failed (MQTT 5: acknowledged with a failure reason code).', dl, e.refused)
  }
  for (const c of connectors) {
    put('junction_connector_connected', 'gauge', '1 when the connector is connected.', { deployment: c.deploymentId, connector: c.id, type: c.type }, c.status === 'connected' ? 1 : 0)
    if (c.delivery === undefined) continue
    const cl = { deployment: c.deploymentId, connector: c.id, type: c.type }
    put('junction_connector_delivery_failing', 'gauge', '1 when an action sending through the connector is failing.', cl, c.delivery === 'failing' ? 1 : 0)
    put('junction_connector_delivery_stalled', 'gauge', '1 when an action sending through the connector is stalled (and none failing).', cl, c.delivery === 'stalled' ? 1 : 0)
  }
  for (const l of logins) {
    const help = 'Device (MQTT) logins by result: success, failure (wrong password or unknown username), anonymous_refused.'
    put('junction_mqtt_logins_total', 'counter', help, { deployment: l.deploymentId, result: 'success' }, l.succeeded)
    put('junction_mqtt_logins_total', 'counter', help, { deployment: l.deploymentId, result: 'failure' }, l.failed)
    put('junction_mqtt_logins_total', 'counter', help, { deployment: l.deploymentId, result: 'anonymous_refused' }, l.anonymousRefused)
  }
  let out = ''
  for (const [name, f] of families) out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n${f.lines.join('\n')}\n`
  return out
}
