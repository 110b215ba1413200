"""The D6 scoring table on the API: `scoringTable`, its history, updateScoringTable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry

from api.context import Info, refused
from api.enums import EngagementKindGQL
from api.errors import UserError
from api.inputs import mutate
from api.relay import to_one
from api.users import UserNode
from domain.enums import EngagementKind, ErrorCode
from domain.lifecycle.lead import MQL_SOURCES
from domain.rules.permissions import RULE_TABLE_EDITORS, role_list
from domain.rules.scoring import ScoringTableEdit
from domain.services import scoring_table as service
from domain.services.versioned_table import VersionedTable, current_version

# Where scoring makes a lead an MQL, from the lead table: "RAW, INQUIRY or NURTURE".
_MQL_SOURCES = (
    ", ".join(s.value for s in MQL_SOURCES[:-1]) + f" or {MQL_SOURCES[-1].value}"
)

MAX_HISTORY = 500
T = TypeVar("T")


@strawberry.type(
    name="ScoringRule",
    description="One row of the scoring table: a rule, its points, what it means.",
)
class ScoringRuleNode:
    """A scoring rule."""

    rule: str = strawberry.field(
        description="Rule id: an EngagementKind, or TITLE_SENIORITY, "
        "TITLE_BLANK_OR_TECHNICAL, COMPANY_EMAIL, FREE_MAIL, CAREERS_PAGE_VISITS "
        "(the ids of ScoreLine.rule)."
    )
    points: int = strawberry.field(description="Points given (may be negative).")
    description: str = strawberry.field(description="The rule in words.")

    @strawberry.field(
        description="The engagement kind the rule scores (null: a demographic rule "
        "or the careers-visits penalty)."
    )
    def kind(self) -> EngagementKindGQL | None:  # type: ignore[valid-type]
        """The engagement kind, if the rule is one."""
        return EngagementKind.__members__.get(self.rule)  # type: ignore[return-value]


@strawberry.type(
    name="ScoringTable",
    description="A version of the D6 scoring table: the points of every rule, the "
    "free-mail list, the MQL and routing thresholds, and who changed it when. "
    "Every edit makes a new version; the current one is what scoring uses.",
)
class ScoringTableNode:
    """A scoring table version."""

    version: int = strawberry.field(
        description="Version number (1: as seeded from the spec)."
    )
    mql_threshold: int = strawberry.field(
        description="A lead whose score reaches this becomes MQL (D2, D6)."
    )
    routing_threshold: int = strawberry.field(
        description="An unowned lead whose score crosses this is routed (D8)."
    )
    rules: list[ScoringRuleNode] = strawberry.field(
        description="Every rule with its points: demographic rules, one per "
        "engagement kind, then the careers-visits penalty."
    )
    free_mail_domains: list[str] = strawberry.field(
        description="Email domains that score as free mail (sorted)."
    )
    changed_at: datetime = strawberry.field(description="When this version was made.")
    note: str | None = strawberry.field(description="Why it was changed, if given.")
    leads_rescored: int = strawberry.field(
        description="How many leads' scores this version changed when it was made."
    )
    changed_by_id: strawberry.Private[int | None]

    changed_by = to_one(
        UserNode,
        "changed_by_id",
        description="Who made this version (null: seeded).",
    )

    @classmethod
    def from_stored(cls, stored: service.StoredScoringTable) -> ScoringTableNode:
        """Stored version -> GraphQL object."""
        row = stored.version
        return cls(
            version=row.version,
            mql_threshold=row.mql_threshold,
            routing_threshold=row.routing_threshold,
            rules=[
                ScoringRuleNode(rule=p.rule, points=p.points, description=p.description)
                for p in stored.rules
            ],
            free_mail_domains=stored.free_mail_domains,
            changed_at=row.changed_at,
            note=row.note,
            leads_rescored=row.leads_rescored,
            changed_by_id=row.changed_by_id,
        )


def history_limit(first: int) -> int:
    """The page size of a table history, refused outside 1..MAX_HISTORY."""
    if not 1 <= first <= MAX_HISTORY:
        raise refused(
            ErrorCode.INVALID_INPUT,
            f"first must be between 1 and {MAX_HISTORY}.",
            "first",
        )
    return first


async def table_version(
    info: Info,
    version: int | None,
    kind: VersionedTable[Any],
    versions: Callable[..., Awaitable[list[Any]]],
    to_node: Callable[[Any], T],
) -> T | None:
    """One version of a versioned rule table (the current one by default)."""

    async def find(session: Any) -> list[Any]:
        number = await current_version(session, kind) if version is None else version
        return await versions(session, version=number)

    found = await info.context.read(find)
    return to_node(found[0]) if found else None


async def table_history(
    info: Info,
    first: int,
    versions: Callable[..., Awaitable[list[Any]]],
    to_node: Callable[[Any], T],
) -> list[T]:
    """The newest ``first`` versions of a versioned rule table."""
    limit = history_limit(first)
    found = await info.context.read(lambda s: versions(s, limit=limit))
    return [to_node(f) for f in found]


@strawberry.type
class ScoringQueries:
    """Root fields about the scoring table."""

    @strawberry.field(
        description="The scoring table (D6): the current version, or the given one "
        "(null when there is no such version)."
    )
    async def scoring_table(
        self,
        info: Info,
        version: Annotated[
            int | None,
            strawberry.argument(
                description="A past version (default: the current one)."
            ),
        ] = None,
    ) -> ScoringTableNode | None:
        """One version of the table."""
        return await table_version(
            info,
            version,
            service.SCORING_TABLE,
            service.scoring_table_versions,
            ScoringTableNode.from_stored,
        )

    @strawberry.field(
        description="The versions of the scoring table, newest (current) first."
    )
    async def scoring_table_history(
        self,
        info: Info,
        first: Annotated[
            int,
            strawberry.argument(description=f"How many versions (1 to {MAX_HISTORY})."),
        ] = 50,
    ) -> list[ScoringTableNode]:
        """The history of the table."""
        return await table_history(
            info, first, service.scoring_table_versions, ScoringTableNode.from_stored
        )


@strawberry.input(description="New points for one rule of the scoring table.")
class ScoringPointsInput:
    """One rule's points."""

    rule: str = strawberry.field(
        description="Rule id, as in ScoringRule.rule (an EngagementKind or a "
        "demographic rule id)."
    )
    points: int = strawberry.field(description="Points, from -1000 to 1000.")


@strawberry.input(
    description=f"Edit the scoring table ({role_list(RULE_TABLE_EDITORS)}): what "
    "is given changes, the rest stays. Every lead is rescored in the same transaction."
)
class UpdateScoringTableInput:
    """updateScoringTable input."""

    expected_version: int = strawberry.field(
        description="The version the edit was made on; STALE_VERSION if the table "
        "moved on."
    )
    points: list[ScoringPointsInput] | None = strawberry.field(
        default=None, description="New points for some rules (others keep theirs)."
    )
    mql_threshold: int | None = strawberry.field(
        default=None, description="New MQL threshold (1 to 10,000)."
    )
    routing_threshold: int | None = strawberry.field(
        default=None,
        description="New routing threshold (1 to 10,000, not above the MQL one).",
    )
    free_mail_domains: list[str] | None = strawberry.field(
        default=None, description="The whole new free-mail list (replaces it)."
    )
    note: str | None = strawberry.field(
        default=None, description="Why the table changes (kept with the version)."
    )


@strawberry.type(description="Result of updateScoringTable.")
class UpdateScoringTablePayload:
    """The new version and what the rescore found, or why not."""

    scoring_table: ScoringTableNode | None = strawberry.field(
        description="The new current version."
    )
    leads_rescored: int | None = strawberry.field(
        description="How many leads' scores changed."
    )
    leads_at_mql_threshold: int | None = strawberry.field(
        description=f"Open leads in {_MQL_SOURCES} whose score is at or "
        "above the MQL threshold: the rescore does not move them; they become MQL "
        "on their next engagement or profile change, or by transitionLead."
    )
    unowned_leads_at_routing_threshold: int | None = strawberry.field(
        description="Open unowned leads whose score is at or above the routing "
        "threshold: the rescore does not route them (routeLead does)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class ScoringMutations:
    """Root mutations about the scoring table."""

    @strawberry.mutation(
        description=f"Edit the scoring table ({role_list(RULE_TABLE_EDITORS)}): a "
        "new version, and every lead rescored with it in the same transaction (no "
        "status moves)."
    )
    async def update_scoring_table(
        self, info: Info, input: UpdateScoringTableInput
    ) -> UpdateScoringTablePayload:
        """Make a new version of the scoring table."""
        actor = info.context.actor
        edit = ScoringTableEdit(
            points=tuple((p.rule, p.points) for p in input.points or ()),
            mql_threshold=input.mql_threshold,
            routing_threshold=input.routing_threshold,
            free_mail_domains=(
                None
                if input.free_mail_domains is None
                else tuple(input.free_mail_domains)
            ),
        )

        async def use_case(s):  # type: ignore[no-untyped-def]
            change = await service.update_scoring_table(
                edit,
                session=s,
                actor=actor,
                expected_version=input.expected_version,
                note=input.note,
            )
            stored = await service.scoring_table_versions(
                s, version=change.version.version
            )
            return change, stored[0]

        result, errors = await mutate(info, use_case)
        if result is None:
            return UpdateScoringTablePayload(
                scoring_table=None,
                leads_rescored=None,
                leads_at_mql_threshold=None,
                unowned_leads_at_routing_threshold=None,
                user_errors=errors,
            )
        change, stored = result
        return UpdateScoringTablePayload(
            scoring_table=ScoringTableNode.from_stored(stored),
            leads_rescored=change.leads_rescored,
            leads_at_mql_threshold=change.leads_at_mql_threshold,
            unowned_leads_at_routing_threshold=change.unowned_leads_at_routing_threshold,
            user_errors=[],
        )
