#!/bin/sh
# manage.py as the services run it: the production environment file, the application's user.
#   sudo /srv/illgateway/deploy/manage.sh migrate
set -eu
APP_DIR=${APP_DIR:-/srv/illgateway}
ENV_FILE=${ENV_FILE:-/etc/illgateway/illgateway.env}
RUN_AS=${RUN_AS:-illgateway}
cd "$APP_DIR"
if [ "$(id -un)" != "$RUN_AS" ]; then
  exec runuser -u "$RUN_AS" -- "$APP_DIR/.venv/bin/python" "$APP_DIR/deploy/envfile.py" \
    "$ENV_FILE" "$APP_DIR/.venv/bin/python" "$APP_DIR/manage.py" "$@"
fi
exec "$APP_DIR/.venv/bin/python" "$APP_DIR/deploy/envfile.py" "$ENV_FILE" \
  "$APP_DIR/.venv/bin/python" "$APP_DIR/manage.py" "$@"
