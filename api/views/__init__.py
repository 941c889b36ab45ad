"""The REST API v1, one module per resource. Each write validates its input, calls one
operation of the core (one transaction) and renders the result; refusals become JSON errors
in api/errors.py. What the resources share (authentication, query parameters, the viewset of
rows addressed by code) is in ``base``; api/urls.py imports the modules it routes."""
