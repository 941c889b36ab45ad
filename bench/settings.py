"""Settings of the benchmarks: the instance's own settings, plus the bench-only URLs.

The bench measures what an installation serves, so nothing here changes how a page is
answered; it only adds /bench/hello/ (bench/urls.py), lets the test client's host in, and
gives the collected static files a folder of their own (see STATIC_ROOT below).
"""

from otb.settings import *  # noqa: F403
from otb.settings import ALLOWED_HOSTS, VAR_DIR

ROOT_URLCONF = "bench.urls"
# django.test.Client sends "Host: testserver".
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
# Without DEBUG the pages need collectstatic's manifest, as a real installation does.
# bench/run.py collects into this folder, so the bench never writes into an instance's
# own STATIC_ROOT.
STATIC_ROOT = VAR_DIR / "bench-static"
