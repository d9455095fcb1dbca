"""gunicorn's configuration for the ILL Reader Gateway (README, "Deploying").

    gunicorn -c deploy/gunicorn.conf.py illgateway.wsgi

Every value can be overridden from the environment (GUNICORN_*), so the systemd unit and the
environment file stay the only places an operator edits.
"""

import multiprocessing
import os

# Behind nginx on the same machine: loopback only. Another machine's proxy: set
# GUNICORN_BIND=0.0.0.0:8000 and let the firewall admit the proxy alone.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Synchronous workers: the gateway's pages are short database work. The usual rule, two per
# core plus one, bounded so that a large machine does not open more database connections than
# PostgreSQL allows (each worker holds one; max_connections is 100 by default).
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12)))
worker_class = "sync"

# A page that takes longer than this is killed (and logged); the CSV exports stream, so they
# keep the worker alive. Graceful stop: a worker finishes the request it serves.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5

# Restart each worker after this many requests (with jitter, so not all at once): a slow leak
# in any library never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = 200

# The workers' heartbeat files in memory (tmpfs), not on a disk that may stall or be shared.
SHM = "/dev/shm"  # noqa: S108 (gunicorn's heartbeat files, not data)
worker_tmp_dir = SHM if os.path.isdir(SHM) else None

# No control socket (gunicorn 25 and later open one in the working directory or the home
# folder by default): nothing to collide with when servers share a home over NFS. Reload with
# `systemctl reload` (SIGHUP) instead.
control_socket_disable = True

# The application writes one line per request itself (method, path, status, duration; JSON
# with LOG_FORMAT=json), so gunicorn's access log is off unless asked for; its format then
# carries the duration too (%(M)s: milliseconds).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# The proxy on this machine (or the one named by FORWARDED_ALLOW_IPS) may set X-Forwarded-*.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Each worker loads the application itself, so `systemctl reload` (SIGHUP) starts workers with
# the new code after an upgrade while the old ones finish their requests.
preload_app = False
