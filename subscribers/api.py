"""The ingestion API for billing and network systems (token-authenticated, idempotent)."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="Retention Desk ingestion API",
    version="1.0.0",
    urls_namespace="api-1.0.0",
    docs_url=None,  # the OpenAPI schema is served at /api/v1/openapi.json
)
