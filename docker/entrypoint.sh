#!/bin/sh
# The container's entry point: the bridge with its config in the data volume ($BRIDGE_DATA,
# /data in the image). Arguments are passed on: `-g -r /data/registration.yaml`, `db upgrade`,
# `import --guild ID`, `doctor`.
set -eu
data="${BRIDGE_DATA:-/data}"
config="$data/config.yaml"
if [ -e "$config" ]; then
    exec discord-matrix-bridge -c "$config" "$@"
fi
# First run: the bridge writes the example config and names the keys to edit.
status=0
discord-matrix-bridge -c "$config" "$@" || status=$?
if [ -e "$config" ]; then
    cat >&2 <<HINT

In this container the config is $config in the data volume. Besides the keys above:
  - appservice.address: how the homeserver reaches this container,
    e.g. http://discord-bridge:29334 (the bridge listens on 0.0.0.0, set by
    DISCORD_BRIDGE__APPSERVICE__HOSTNAME in the image);
  - appservice.database.url: the SQLite file stays in $data, or use PostgreSQL.
Then, instead of the command above, write the registration into the volume (same --user and -v
as this run) and load it into the homeserver:
  docker run --rm --user "\$(id -u):\$(id -g)" -v "\$PWD/data:$data" discord-matrix-bridge \\
      -g -r $data/registration.yaml
  (with docker-compose.yml: docker compose run --rm bridge -g -r $data/registration.yaml)
HINT
fi
exit "$status"
