"""The server-rendered pages (Simplified Chinese, phone first): a client of the domain
beside the API. Each module is one page or family of pages; who is signed in comes
from ``signin`` as a dependency, every rule from the services and the policy."""

from litestar.types import ControllerRouterHandler

from api.pages.admin import AdminPageController
from api.pages.county import CountyPageController
from api.pages.new_topic import NewTopicPageController
from api.pages.notices import NoticeBoardController
from api.pages.open_data import OpenDataController
from api.pages.plans import PlanPageController
from api.pages.session import SessionController
from api.pages.statistics import StatisticsPageController
from api.pages.suggestions import SuggestionPageController
from api.pages.topic import TopicPageController
from api.pages.workflows import WorkflowPageController

PAGE_HANDLERS: list[ControllerRouterHandler] = [
    NoticeBoardController,
    SessionController,
    NewTopicPageController,
    TopicPageController,
    CountyPageController,
    AdminPageController,
    StatisticsPageController,
    OpenDataController,
    WorkflowPageController,
    SuggestionPageController,
    PlanPageController,
]

__all__ = ["PAGE_HANDLERS"]
