"""The JSON API: every app's router, assembled under /api/v1 with one OpenAPI document."""

from ninja import NinjaAPI

from pollwatch.ledger.api import router as ledger_router
from pollwatch.protocols.api import router as protocols_router
from pollwatch.registry.api import router as registry_router

api = NinjaAPI(
    title="pollwatch API",
    version="1",
    description="Election observation and count-protocol verification.",
    urls_namespace="api-v1",
)
api.add_router("/", registry_router)
api.add_router("/", ledger_router)
api.add_router("/", protocols_router)
