#!/bin/sh
# Starts as root: hands the data volume to the app user, then runs the
# command as that user.
set -e
if [ "$(id -u)" = "0" ]; then
  chown -R app:app /var/lib/app
  exec gosu app "$0" "$@"
fi
exec "$@"
