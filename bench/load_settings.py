"""Settings of the load test's server (bench/load.py): the production settings exactly as
deploy/ runs them (illgateway.settings, configured from the environment), with one URL added,
`make bench`'s bare baseline view (bench/urls.py). The baseline phase and the journeys then run
on the very same gunicorn server, settings and database, one right after the other."""

from illgateway.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
