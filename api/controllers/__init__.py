"""HTTP controllers: thin, each handler calls one service function."""

from litestar.types import ControllerRouterHandler

from api.controllers.accounts import (
    AuthController,
    SecurityLogController,
    TownshipController,
    UserController,
    VillageController,
)
from api.controllers.documents import DocumentController, PublicNoticeController
from api.controllers.favicon import favicon
from api.controllers.health import health
from api.controllers.plans import PlanController
from api.controllers.record_routes import RECORD_ROUTES
from api.controllers.records import CorrectionController, RecordController, TopicRecordsController
from api.controllers.statistics import ledger_workbook, year_figures
from api.controllers.suggestion_screening import SuggestionScreeningController
from api.controllers.suggestions import SuggestionController
from api.controllers.topics import TopicController, county_view, list_overdue
from api.controllers.verify import VerifyController
from api.controllers.webhooks import WebhookController
from api.controllers.workflow import WorkflowController
from api.controllers.workflow_catalog import WorkflowCatalogController
from api.pages import PAGE_HANDLERS

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    health,
    favicon,
    AuthController,
    UserController,
    SecurityLogController,
    TownshipController,
    VillageController,
    TopicController,
    SuggestionScreeningController,
    list_overdue,
    county_view,
    year_figures,
    ledger_workbook,
    TopicRecordsController,
    *RECORD_ROUTES,
    RecordController,
    CorrectionController,
    WorkflowController,
    WorkflowCatalogController,
    DocumentController,
    PublicNoticeController,
    PlanController,
    VerifyController,
    WebhookController,
    SuggestionController,
    *PAGE_HANDLERS,
]

__all__ = ["ROUTE_HANDLERS"]
