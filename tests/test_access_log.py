"""gunicorn's access log keeps a document link's token out (otb/access_log.py): gunicorn's
own Logger, as deploy/gunicorn.conf.py names it, given a request for a link's PDF."""

import datetime
import secrets
from types import SimpleNamespace

from gunicorn.config import Config

from otb.access_log import MaskedLinksLogger
from otb.link_tokens import mask_link_tokens


def test_a_link_token_is_masked_in_the_path_the_request_line_and_the_referer():
    token = secrets.token_urlsafe(32)
    config = Config()
    config.set("accesslog", "-")
    logger = MaskedLinksLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/q/{token}/pdf/",
        "PATH_INFO": f"/q/{token}/pdf/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://billing.example.com/q/{token}/",
    }
    request = SimpleNamespace(headers=[("REFERER", f"https://billing.example.com/q/{token}/")])
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)
    atoms = logger.atoms(response, request, environ, datetime.timedelta(seconds=1))
    assert token not in repr(atoms)
    assert atoms["r"] == "GET /q/[token]/pdf/ HTTP/1.1"
    assert atoms["f"] == "https://billing.example.com/q/[token]/"


def test_other_paths_are_logged_as_they_are():
    assert mask_link_tokens("GET /quotes/12/ HTTP/1.1") == "GET /quotes/12/ HTTP/1.1"
    assert mask_link_tokens("/invoices/INV-0001/") == "/invoices/INV-0001/"
    assert mask_link_tokens("/q/abc?x=1") == "/q/[token]?x=1"


def test_the_gunicorn_configuration_names_the_masking_logger():
    from pathlib import Path

    conf = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
    namespace: dict = {}
    exec(compile(conf.read_text(), str(conf), "exec"), namespace)
    assert namespace["logger_class"] == "otb.access_log.MaskedLinksLogger"
