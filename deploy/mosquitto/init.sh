#!/bin/sh
# Run once before Mosquitto (compose service mosquitto-init, image eclipse-mosquitto:2.0): creates what Mosquitto and
# chipwatch share, and never overwrites it on later runs.
#   /secrets/mqtt-admin-password    the dynamic-security admin's password (chipwatch: MQTT_DYNSEC_ADMIN_PASSWORD_FILE)
#   /secrets/mqtt-service-password  chipwatch's own MQTT password (MQTT_PASSWORD_FILE); chipwatch creates that client
#   /mosquitto/dynsec/dynamic-security.json  the plugin's file, holding only the admin client `chipwatch-admin`
set -eu
umask 077
secrets=/secrets
dynsec=/mosquitto/dynsec/dynamic-security.json

# 32 random bytes, base64 without the characters a shell or URL might mangle.
gen() { head -c 32 /dev/urandom | base64 | tr -d '\n=+/'; }

[ -s "$secrets/mqtt-admin-password" ] || gen > "$secrets/mqtt-admin-password"
[ -s "$secrets/mqtt-service-password" ] || gen > "$secrets/mqtt-service-password"
if [ ! -s "$dynsec" ]; then
  mosquitto_ctrl dynsec init "$dynsec" chipwatch-admin "$(cat "$secrets/mqtt-admin-password")" > /dev/null
  echo "mosquitto-init: created $dynsec with admin client chipwatch-admin"
fi
# The plugin rewrites its file on every change (as the image's mosquitto user, uid 1883); chipwatch runs as node (1000).
chown -R 1883:1883 /mosquitto/dynsec
chown 1000:1000 "$secrets/mqtt-admin-password" "$secrets/mqtt-service-password"
chmod 600 "$secrets/mqtt-admin-password" "$secrets/mqtt-service-password"
