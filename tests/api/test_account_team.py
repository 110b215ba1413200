"""The account team: addAccountTeamMember, removeAccountTeamMember, teamMembers."""

from __future__ import annotations

from typing import Any

from api.accounts import AccountNode
from api.users import UserNode
from domain.enums import Role
from domain.records import Account, AccountTeamMember, User
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from tests.api.ids import gid
from tests.conftest import row_count

ADD = """
mutation($input: AddAccountTeamMemberInput!) {
  addAccountTeamMember(input: $input) {
    account { version teamMembers { role user { id } } } userErrors { code field }
  }
}"""
REMOVE = """
mutation($input: RemoveAccountTeamMemberInput!) {
  removeAccountTeamMember(input: $input) {
    account { version teamMembers { role user { id } } } userErrors { code field }
  }
}"""


async def an_account(make: Any, owner: User) -> Account:
    return await make.run(
        lambda s: create_account(
            {"name": "Initech", "owner_id": owner.id},
            session=s,
            actor=Actor(owner.id, owner.role),
        )
    )


async def call(
    api: Any, query: str, account: Account, user: User, as_user: User, **extra: Any
) -> dict[str, Any]:
    answer = (
        await api(
            query,
            {
                "input": {
                    "accountId": gid(AccountNode, account.id),
                    "userId": gid(UserNode, user.id),
                    **extra,
                }
            },
            as_user=as_user,
        )
    ).ok()
    return next(iter(answer.values()))


async def test_the_owner_builds_the_team_in_joining_order(api, make):
    sal = await make.user(Role.SAL)
    sdr = await make.user(Role.SDR)
    csm = await make.user(Role.CUSTOMER_SUCCESS)
    account = await an_account(make, sal)

    await call(api, ADD, account, sdr, sal)
    added = await call(api, ADD, account, csm, sal)
    as_sal_too = await call(api, ADD, account, sdr, sal, role="SAL")
    removed = await call(api, REMOVE, account, sdr, sal, role="SDR")

    assert added["account"]["teamMembers"] == [
        {"role": "SDR", "user": {"id": gid(UserNode, sdr.id)}},
        {"role": "CUSTOMER_SUCCESS", "user": {"id": gid(UserNode, csm.id)}},
    ]
    assert as_sal_too["userErrors"] == []
    assert removed["account"] == {
        "version": 5,
        "teamMembers": [
            {"role": "CUSTOMER_SUCCESS", "user": {"id": gid(UserNode, csm.id)}},
            {"role": "SAL", "user": {"id": gid(UserNode, sdr.id)}},
        ],
    }


async def test_team_changes_are_refused_with_a_reason_and_change_nothing(
    api, make, sessions
):
    sal = await make.user(Role.SAL)
    sdr = await make.user(Role.SDR)
    stranger = await make.user(Role.AE)
    account = await an_account(make, sal)
    await call(api, ADD, account, sdr, sal)

    answers = [
        await call(api, ADD, account, sdr, sal),  # already there as SDR
        await call(api, ADD, account, stranger, stranger),  # not theirs
        await call(api, REMOVE, account, stranger, sal),  # not on the team
        await call(api, REMOVE, account, sdr, sal, role="SAL"),  # not in that role
    ]
    unknown = (
        await api(
            ADD,
            {
                "input": {
                    "accountId": gid(AccountNode, 999),
                    "userId": gid(UserNode, sdr.id),
                }
            },
            as_user=sal,
        )
    ).ok()["addAccountTeamMember"]

    assert [a["userErrors"] for a in answers] == [
        [{"code": "INVALID_INPUT", "field": ["userId"]}],
        [{"code": "FORBIDDEN", "field": None}],
        [{"code": "NOT_FOUND", "field": ["userId"]}],
        [{"code": "NOT_FOUND", "field": ["userId"]}],
    ]
    assert unknown["userErrors"] == [{"code": "NOT_FOUND", "field": ["accountId"]}]
    assert await row_count(sessions, AccountTeamMember) == 1
    async with sessions() as s:
        assert (await s.get(Account, account.id)).version == 2
