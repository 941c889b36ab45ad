"""gunicorn's access log without the tokens of document links (otb/link_tokens.py).

Every value a log line may name (the request line, the path, the Referer, which the link
page's own PDF link sends, the headers and the environment) is logged with the token
replaced. deploy/gunicorn.conf.py names this class; nothing here
needs Django.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from otb.link_tokens import mask_link_tokens


class MaskedLinksLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            name: mask_link_tokens(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }
