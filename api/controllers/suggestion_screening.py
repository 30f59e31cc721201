"""Joint support (附议) and screening (审核) of villagers' suggestions: the second
controller under ``/api/v1/suggestions`` (filing and reading are ``suggestions.py``)."""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from api.auth import provide_optional_principal
from deliberation.errors import Unauthenticated
from deliberation.security import Principal
from deliberation.suggestions import screening, support
from deliberation.suggestions.screening import ScreeningCreate, ScreeningRead
from deliberation.suggestions.support import SupportCreate, SupportRead

Caller = NamedDependency[Principal | None]


def signed_in(caller: Principal | None) -> Principal:
    """Supporting and screening need an account (the path is public: anyone may file
    and read, so no middleware refused the anonymous caller)."""
    if caller is None:
        raise Unauthenticated("请先登录")
    return caller


class SuggestionScreeningController(Controller):
    path = "/api/v1/suggestions"
    tags = ["suggestions"]
    opt = {"exclude_from_auth": True}
    dependencies = {"caller": Provide(provide_optional_principal)}

    @post("/{suggestion_id:int}/supports", operation_id="support_suggestion", status_code=201)
    async def support_suggestion(
        self,
        caller: Caller,
        suggestion_id: FromPath[int],
        data: JSONBody[SupportCreate],
    ) -> SupportRead:
        """附议. ``{}``: the caller's own support — a representative of the suggestion's
        village (any village's, for a township-wide one) or a liaison of its township;
        once per account (409 ``already_supported``). ``{on_behalf_of: [names],
        sheet_note}``: the names a representative (own village) or the office collected
        on paper (never shown publicly). A screened suggestion takes no support (409).
        The answer is the tally: representatives and villagers count toward the
        must-list rules, liaisons are shown and not counted; ``needed`` is how many more
        the nearest rule wants. The support that meets a rule makes the suggestion
        ``must_list`` with its ``screening_due_on`` (webhook ``suggestion.must_list``)."""
        return await support.support(signed_in(caller), suggestion_id, data)

    @post("/{suggestion_id:int}/screening", operation_id="screen_suggestion", status_code=200)
    async def screen_suggestion(
        self,
        caller: Caller,
        suggestion_id: FromPath[int],
        data: JSONBody[ScreeningCreate],
    ) -> ScreeningRead:
        """审核, by the township's office, once (a screened suggestion is 409).
        ``accept`` with ``workflow``: the topic is opened in it at once (``topic_id``);
        a workflow the office may not open (四议两公开: the village's cadres) is 403
        naming who may. ``merge`` with ``merge_into`` ``{suggestion_id}`` (its supports
        carried over) or ``{topic_id}``. ``decline``. ``reason`` is public (masked) and
        required for merge and decline (422); a must-list suggestion is declined only
        on one of the township's decline grounds, quoted in the reason (422
        ``condition_failed`` lists them). Webhook ``suggestion.screened``."""
        return await screening.screen(signed_in(caller), suggestion_id, data)
