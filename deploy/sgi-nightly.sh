#!/bin/sh
# One nightly run, as cron or the systemd service starts it. Configuration comes from the environment
# file (database URL, archive directory, contact URL); the exit code is sgi nightly's own:
#   0 healthy · 3 a health check failed (report in $SGI_REPORT_DIR) · 2 configuration error · 1 crash
set -u
[ -f /etc/sgi/sgi.env ] && . /etc/sgi/sgi.env
: "${SGI_HOME:=/srv/sgi}"
: "${SGI_REPORT_DIR:=$SGI_HOME/reports}"
: "${SGI_LOG_DIR:=$SGI_HOME/logs}"
: "${SGI_LOG_KEEP_DAYS:=90}"
export SGI_DATABASE_URL SGI_ARCHIVE_DIR SGI_CONTACT_URL
mkdir -p "$SGI_LOG_DIR" "$SGI_REPORT_DIR"
# Per-run logs are written once: compress the older ones, drop those past the retention.
find "$SGI_LOG_DIR" -name 'nightly-*.log' -mtime +2 -exec gzip -q {} + 2>/dev/null
find "$SGI_LOG_DIR" -name 'nightly-*.log.gz' -mtime +"$SGI_LOG_KEEP_DAYS" -delete 2>/dev/null
exec "$SGI_HOME/.venv/bin/sgi" nightly --report-dir "$SGI_REPORT_DIR" --log-dir "$SGI_LOG_DIR" "$@"
