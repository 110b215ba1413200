"""Record ownership on the API (D8): transferLeadOwnership.

Adopting a Sales Admin record is an ``ownerId`` change through the record's
own update mutation (updateLead, updateAccount, updateContact,
updateOpportunity); the rules are in ``domain.rules.permissions``.
"""

from __future__ import annotations

import strawberry

from api.context import Info
from api.errors import UserError
from api.inputs import idempotency_field, mutate_once, version_guard
from api.leads import LeadNode
from api.relay import decode_id
from api.users import UserNode
from domain.records import Lead
from domain.rules.permissions import LEAD_TRANSFER_ROLES, role_names
from domain.services import ownership as service


@strawberry.input(
    description="Hand a lead to another user (D8). A lead owned by a BDR changes "
    "hands only this way (or by updateLead's ownerId, same rule), by that BDR, "
    f"{role_names(LEAD_TRANSFER_ROLES)}."
)
class TransferLeadOwnershipInput:
    """transferLeadOwnership input."""

    idempotency_key: str | None = idempotency_field(
        "the lead (as it is now, transferred once)"
    )
    id: strawberry.ID = strawberry.field(description="The lead.")
    to_user_id: strawberry.ID = strawberry.field(
        description="The new owner: an active user other than the current owner."
    )
    reason: str | None = strawberry.field(
        default=None, description="Why it changes hands (kept on the event)."
    )
    expected_version: int | None = version_guard("lead")


@strawberry.type(description="Result of transferLeadOwnership.")
class TransferLeadOwnershipPayload:
    """The lead with its new owner, or why not."""

    lead: LeadNode | None = strawberry.field(description="The lead, newly owned.")
    user_errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class OwnershipMutations:
    """Root mutations about record ownership."""

    @strawberry.mutation(
        description="Transfer a lead to another owner: a BDR's lead by that BDR, "
        f"{role_names(LEAD_TRANSFER_ROLES)}, other leads by whoever may change them; "
        "a Sales Admin lead may "
        "be taken by anyone (an adoption, which raises an alert). Writes "
        "LEAD_ASSIGNED (via TRANSFER) to the new and the previous owner."
    )
    async def transfer_lead_ownership(
        self, info: Info, input: TransferLeadOwnershipInput
    ) -> TransferLeadOwnershipPayload:
        """Transfer a lead."""
        actor = info.context.actor
        row, errors = await mutate_once(
            info,
            "transferLeadOwnership",
            input,
            Lead,
            lambda s: service.transfer_lead_ownership(
                decode_id(input.id, LeadNode, "id"),
                decode_id(input.to_user_id, UserNode, "toUserId"),
                session=s,
                actor=actor,
                reason=input.reason,
                expected_version=input.expected_version,
            ),
        )
        return TransferLeadOwnershipPayload(
            lead=row and LeadNode.from_row(row), user_errors=errors
        )
