/**
 * EMQX `mqtt_properties` that pass a message's own MQTT 5 PUBLISH properties on, as its docs show
 * for republish and the MQTT bridge (user properties go in `user_properties`, in either form).
 */
export const PASS_THROUGH_MQTT_PROPERTIES: Readonly<Record<string, string>> = {
  'Payload-Format-Indicator': "${pub_props.'Payload-Format-Indicator'}",
  'Message-Expiry-Interval': "${pub_props.'Message-Expiry-Interval'}",
  'Content-Type': "${pub_props.'Content-Type'}",
  'Response-Topic': "${pub_props.'Response-Topic'}",
  'Correlation-Data': "${pub_props.'Correlation-Data'}",
}
