"""Every routing rule of D8 through the API, in order, first match wins (D5, D8, D10).

Rules (D8 round 2): 1 named account, 2 Professional Services, 3 trial, 4 Contact
Us by segment (public sector first), 5 owned account, 6 public sector, 7 score ≥ 50,
else nurture; before them all, a passive GitLab.com lead is held (NOT_ACTIVE).
The handbook sentences are in ../shared/seeds/002_91dd8e67a169a832.txt ("Lead
Routing") and 000_842db3b45f0d818b.txt / 001_d032691316cfaf8b.txt ("LeanData").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.accounts import AccountNode
from api.leads import LeadNode
from api.users import UserNode
from domain.enums import LeadStatus, Role
from domain.records import Account, Lead, User
from domain.rules.permissions import Actor
from domain.services.accounts import create_account
from domain.sqltypes import utcnow
from tests.api.ids import gid

LEAD_FIELDS = """
  id owner { id } salesSegment region account { id } slaDueAt activeUntil
  routing { rule reason pool assignee { id } }
"""
RECORD = f"""
mutation($input: RecordEngagementInput!) {{
  recordEngagement(input: $input) {{
    lead {{ {LEAD_FIELDS} }}
    userErrors {{ code field message }}
  }}
}}"""
ROUTE = f"""
mutation($input: RouteLeadInput!) {{
  routeLead(input: $input) {{ lead {{ {LEAD_FIELDS} }} userErrors {{ code }} }}
}}"""
SET_POOL = """
mutation($input: SetRoutingPoolMembersInput!) {
  setRoutingPoolMembers(input: $input) { pool { key } userErrors { code } }
}"""
POOLS = "{ routingPools { key lastPosition } }"
ADD_TEAM = """
mutation($input: AddAccountTeamMemberInput!) {
  addAccountTeamMember(input: $input) {
    account { teamMembers { role user { id } } } userErrors { code field }
  }
}"""
EVENTS = """
query($filter: EventFilter) {
  events(filter: $filter) {
    nodes {
      type recordType recordId payload actor { id }
      recipients { capacity user { id } }
    }
  }
}"""


def uid(user: User | None) -> str | None:
    return gid(UserNode, user.id) if user else None


async def pool(api: Any, ops: User, key: str, users: list[User]) -> None:
    data = (
        await api(
            SET_POOL,
            {"input": {"pool": key, "userIds": [uid(u) for u in users]}},
            as_user=ops,
        )
    ).ok()["setRoutingPoolMembers"]
    assert data["userErrors"] == []


async def an_account(
    make: Any, ops: User, name: str, owner: User | None, domains=(), **values: Any
) -> Account:
    return await make.run(
        lambda s: create_account(
            {"name": name, "owner_id": owner.id if owner else None, **values},
            session=s,
            actor=Actor(ops.id, ops.role),
            domains=list(domains),
        )
    )


async def engage(api: Any, ops: User, lead: Any, kind: str) -> dict[str, Any]:
    data = (
        await api(
            RECORD,
            {"input": {"leadId": gid(LeadNode, lead.id), "kind": kind}},
            as_user=ops,
        )
    ).ok()["recordEngagement"]
    assert data["userErrors"] == []
    return data["lead"]


async def team(api: Any, ops: User, account: Account, user: User, role: str) -> None:
    data = (
        await api(
            ADD_TEAM,
            {
                "input": {
                    "accountId": gid(AccountNode, account.id),
                    "userId": uid(user),
                    "role": role,
                }
            },
            as_user=ops,
        )
    ).ok()["addAccountTeamMember"]
    assert data["userErrors"] == []


def decision(lead: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(rule, pool, owner id) of a routed lead."""
    routing = lead["routing"]
    assert lead["owner"] == (routing["assignee"] and {"id": routing["assignee"]["id"]})
    return routing["rule"], routing["pool"], (lead["owner"] or {}).get("id")


async def events(api: Any, as_user: User, **criteria: Any) -> list[dict[str, Any]]:
    return (await api(EVENTS, {"filter": criteria}, as_user=as_user)).ok()["events"][
        "nodes"
    ]


# --- rule 1: owned account ---------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AE, Role.SAL, Role.AM, Role.RD])
async def test_rule_5_a_lead_whose_email_domain_matches_goes_to_the_field_sales_owner(
    api, make, role
):
    ops = await make.user(Role.SALES_OPS)
    owner = await make.user(role)
    initech = await an_account(make, ops, "Initech", owner, ["initech.example"])
    lead = await make.lead(
        by=ops, title="Analyst", email="peter@eu.initech.example", company="Other"
    )

    # 5 + 50: "anything else" with a score of at least 50, no request.
    routed = await engage(api, ops, lead, "ENTERPRISE_TRIAL_PAGE_VISIT")

    assert decision(routed) == ("OWNED_ACCOUNT", None, uid(owner))
    assert routed["account"] == {"id": gid(AccountNode, initech.id)}
    assert routed["routing"]["reason"] == (
        f"The lead matches account {initech.name!r}, owned by an active field-sales user."
    )


async def test_rule_5_matches_the_normalized_company_name_when_no_domain_does(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    initech = await an_account(make, ops, "Initech", ae, ["initech.example"])
    lead = await make.lead(
        by=ops, title="Analyst", email="peter@gmail.com", company="INITECH, Inc."
    )

    routed = await engage(api, ops, lead, "HIGH_INTENT_LIVE_ATTENDED")  # -5 + 90

    assert decision(routed) == ("OWNED_ACCOUNT", None, uid(ae))
    assert routed["account"] == {"id": gid(AccountNode, initech.id)}


async def test_rule_1_never_matches_a_free_mail_domain(api, make):
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [bdr])
    await an_account(make, ops, "Mail Fans", ae, ["gmail.com"])
    lead = await make.lead(
        by=ops,
        email="someone@gmail.com",
        company="Unrelated GmbH",
        number_of_employees=5000,
        country="DE",
    )

    routed = await engage(api, ops, lead, "CONTACT_US_REQUEST")

    assert decision(routed) == ("CONTACT_US", "BDR_EMEA", uid(bdr))
    assert routed["account"] is None


async def test_rule_1_uses_the_free_mail_list_of_the_scoring_table(api, make):
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [bdr])
    await an_account(make, ops, "Mailbox Co", ae, ["mailbox.example"])
    table = (await api("{ scoringTable { freeMailDomains } }", as_user=ops)).ok()
    edit = (
        await api(
            """mutation($input: UpdateScoringTableInput!) {
              updateScoringTable(input: $input) { userErrors { code } } }""",
            {
                "input": {
                    "expectedVersion": 1,
                    "freeMailDomains": [
                        *table["scoringTable"]["freeMailDomains"],
                        "mailbox.example",
                    ],
                }
            },
            as_user=ops,
        )
    ).ok()["updateScoringTable"]
    assert edit["userErrors"] == []
    lead = await make.lead(
        by=ops,
        email="someone@mailbox.example",
        company="Unrelated GmbH",
        number_of_employees=5000,
        country="DE",
    )

    routed = await engage(api, ops, lead, "CONTACT_US_REQUEST")

    # The domain is free mail now: no account match, the region's pool instead.
    assert decision(routed) == ("CONTACT_US", "BDR_EMEA", uid(bdr))
    assert routed["account"] is None


@pytest.mark.parametrize("owner_kind", ["sales_admin", "inactive_ae", "sdr", "none"])
async def test_rule_5_skips_a_placeholder_inactive_non_field_sales_or_missing_owner(
    api, make, owner_kind
):
    ops = await make.user(Role.SALES_OPS)
    owner = {
        "sales_admin": lambda: make.user(Role.SALES_ADMIN),
        "inactive_ae": lambda: make.user(Role.AE, active=False),
        "sdr": lambda: make.user(Role.SDR),
    }.get(owner_kind)
    owner_user = await owner() if owner else None
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [bdr])
    acme = await an_account(
        make,
        ops,
        "Acme",
        owner_user,
        ["acme.example"],
        number_of_employees=3000,
        billing_country="FR",
    )
    lead = await make.lead(by=ops, title="Analyst", email="wile@acme.example")

    routed = await engage(api, ops, lead, "ENTERPRISE_TRIAL_PAGE_VISIT")  # 55

    assert decision(routed) == ("SCORE_AT_LEAST_50", "BDR_EMEA", uid(bdr))
    assert routed["account"] == {"id": gid(AccountNode, acme.id)}
    assert (routed["salesSegment"], routed["region"]) == ("LARGE", "EMEA")


# --- public sector (rules 3, 4 and 6) -------------------------------------------------


async def test_a_us_public_sector_trial_goes_to_the_us_apac_bdr_pool(api, make):
    """Seed 002_91dd8e67a169a832.txt: "Trial leads are routed to the BDR team
    based on `Region`, regardless of sales segment … US Federal and Government:
    US/APAC BDR Round Robin" — not to the Public Sector SDR pool."""
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "PUBLIC_SECTOR_SDR", [await make.user(Role.SDR)])
    await pool(api, ops, "BDR_US_APAC", [bdr])
    lead = await make.lead(by=ops, is_public_sector=True, country="US", state="VA")

    routed = await engage(api, ops, lead, "TRIAL_REQUEST")

    assert decision(routed) == ("TRIAL_REQUEST", "BDR_US_APAC", uid(bdr))
    assert routed["region"] == "PUBLIC_SECTOR"


async def test_a_us_public_sector_contact_us_goes_to_the_public_sector_pool(api, make):
    """Seed 002_91dd8e67a169a832.txt, Contact Us: "U.S. Public Sector: Routed to
    the U.S. Public Sector SDR and Inside Sales team"."""
    ops = await make.user(Role.SALES_OPS)
    sdr = await make.user(Role.SDR)
    await pool(api, ops, "PUBLIC_SECTOR_SDR", [sdr])
    lead = await make.lead(by=ops, is_public_sector=True, country="US", state="VA")

    routed = await engage(api, ops, lead, "CONTACT_US_REQUEST")

    assert decision(routed) == ("CONTACT_US", "PUBLIC_SECTOR_SDR", uid(sdr))


async def test_rule_5_comes_before_rule_6(api, make):
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    await pool(api, ops, "PUBLIC_SECTOR_SDR", [await make.user(Role.SDR)])
    await an_account(make, ops, "Agency", ae, ["agency.example"])
    lead = await make.lead(
        by=ops,
        title="Analyst",
        email="a@agency.example",
        is_public_sector=True,
        country="US",
    )

    routed = await engage(api, ops, lead, "ENTERPRISE_TRIAL_PAGE_VISIT")  # 55

    assert decision(routed) == ("OWNED_ACCOUNT", None, uid(ae))


async def test_rule_6_a_us_public_sector_lead_with_a_score_goes_to_the_sdr_pool(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    sdr = await make.user(Role.SDR)
    await pool(api, ops, "PUBLIC_SECTOR_SDR", [sdr])
    lead = await make.lead(by=ops, title="Analyst", is_public_sector=True, country="US")

    routed = await engage(api, ops, lead, "ENTERPRISE_TRIAL_PAGE_VISIT")  # 55

    assert decision(routed) == ("PUBLIC_SECTOR", "PUBLIC_SECTOR_SDR", uid(sdr))


async def test_a_public_sector_lead_outside_the_us_is_routed_by_its_region(api, make):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [bdr])
    await pool(api, ops, "PUBLIC_SECTOR_SDR", [await make.user(Role.SDR)])
    lead = await make.lead(by=ops, is_public_sector=True, country="DE")

    routed = await engage(api, ops, lead, "TRIAL_REQUEST")

    assert decision(routed) == ("TRIAL_REQUEST", "BDR_EMEA", uid(bdr))


# --- rule 3: Professional Services ----------------------------------------------


async def test_rule_3_a_professional_services_request_goes_to_the_account_owner(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    # Global account ownership: an owner outside field sales still takes it.
    csm = await make.user(Role.CUSTOMER_SUCCESS)
    await an_account(make, ops, "Hooli", csm, ["hooli.example"])
    lead = await make.lead(by=ops, email="gavin@hooli.example")

    routed = await engage(api, ops, lead, "PROFESSIONAL_SERVICES_REQUEST")

    assert decision(routed) == ("PROFESSIONAL_SERVICES", None, uid(csm))
    assert routed["slaDueAt"] is not None


async def test_rule_3_without_an_account_owner_is_routed_like_contact_us(api, make):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_US_WEST", [bdr])
    lead = await make.lead(by=ops, number_of_employees=300, country="US", state="CA")

    routed = await engage(api, ops, lead, "PROFESSIONAL_SERVICES_REQUEST")

    assert decision(routed) == ("PROFESSIONAL_SERVICES", "BDR_US_WEST", uid(bdr))
    assert routed["routing"]["reason"] == (
        "A Professional Services request without an active account owner is routed "
        "like a Contact Us request; MID_MARKET segment in US_WEST: the region's BDR "
        "pool."
    )


# --- rule 4: trials ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "state", "pool_key"),
    [
        ("DE", None, "BDR_EMEA"),
        ("GB", None, "BDR_EMEA"),
        ("JP", None, "BDR_US_APAC"),
        ("BR", None, "BDR_US_APAC"),
        ("US", "CA", "BDR_US_APAC"),
        ("US", "NY", "BDR_US_APAC"),
        ("CA", "ON", "BDR_US_APAC"),
    ],
)
async def test_rule_4_a_trial_goes_to_the_emea_or_the_us_apac_bdr_pool(
    api, make, country, state, pool_key
):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, pool_key, [bdr])
    # Trials are routed by region regardless of segment (here SMB).
    lead = await make.lead(by=ops, number_of_employees=10, country=country, state=state)
    before = utcnow()

    routed = await engage(api, ops, lead, "TRIAL_REQUEST")

    assert decision(routed) == ("TRIAL_REQUEST", pool_key, uid(bdr))
    # Active for the 30-day trial plus 30 days (D8); no SLA for trials.
    active_for = datetime.fromisoformat(routed["activeUntil"]) - before
    assert timedelta(days=60) <= active_for < timedelta(days=60, minutes=1)
    assert routed["slaDueAt"] is None


# --- rule 5: Contact Us by segment and region ------------------------------------


@pytest.mark.parametrize(
    ("employees", "country", "state", "pool_key"),
    [
        (5000, "DE", None, "BDR_EMEA"),  # LARGE
        (500, "US", "NY", "BDR_US_EAST"),  # MID_MARKET
        (500, "US", "TX", "BDR_US_WEST"),
        (500, "MX", None, "BDR_LATAM"),
        (500, "AU", None, "BDR_APAC"),
        (20, "JP", None, "CUSTOMER_ADVOCATE_APAC"),  # SMB
        (20, "FR", None, "CUSTOMER_ADVOCATE_EMEA"),
        (20, "BR", None, "CUSTOMER_ADVOCATE_NCSA"),
        (20, "US", "WA", "CUSTOMER_ADVOCATE_NCSA"),
        (None, "DE", None, "BDR_PREQUALIFICATION"),  # UNKNOWN segment
        (5000, None, None, "BDR_PREQUALIFICATION"),  # unknown region
    ],
)
async def test_rule_5_a_contact_us_request_goes_to_the_pool_of_its_segment_and_region(
    api, make, employees, country, state, pool_key
):
    ops = await make.user(Role.SALES_OPS)
    member = await make.user(Role.BDR)
    await pool(api, ops, pool_key, [member])
    lead = await make.lead(
        by=ops, number_of_employees=employees, country=country, state=state
    )

    routed = await engage(api, ops, lead, "CONTACT_US_REQUEST")

    assert decision(routed) == ("CONTACT_US", pool_key, uid(member))
    assert routed["slaDueAt"] is not None


async def test_rule_5_a_named_account_makes_even_a_small_lead_strategic(api, make):
    ops = await make.user(Role.SALES_OPS)
    placeholder = await make.user(Role.SALES_ADMIN)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_APAC", [bdr])
    await pool(api, ops, "CUSTOMER_ADVOCATE_APAC", [await make.user(Role.BDR)])
    await an_account(
        make,
        ops,
        "Big Name",
        placeholder,
        ["bigname.example"],
        is_named=True,
        number_of_employees=40,
        billing_country="SG",
    )
    lead = await make.lead(by=ops, email="x@bigname.example", number_of_employees=5)

    routed = await engage(api, ops, lead, "CONTACT_US_REQUEST")

    assert decision(routed) == ("CONTACT_US", "BDR_APAC", uid(bdr))
    assert (routed["salesSegment"], routed["region"]) == ("STRATEGIC", "APAC")


# --- rule 6 and nurture ---------------------------------------------------------------


async def test_rule_6_below_fifty_the_lead_stays_unowned_in_nurture(
    api, make, sessions
):
    ops = await make.user(Role.SALES_OPS)
    await pool(api, ops, "BDR_EMEA", [await make.user(Role.BDR)])
    lead = await make.lead(by=ops, title="Developer", country="DE")

    touched = await engage(api, ops, lead, "GATED_ASSET_DOWNLOAD")  # 25: no routing
    rerouted = (
        await api(ROUTE, {"input": {"id": gid(LeadNode, lead.id)}}, as_user=ops)
    ).ok()["routeLead"]["lead"]

    assert touched["routing"] is None
    assert decision(rerouted) == ("NURTURE", None, None)
    assert rerouted["routing"]["reason"] == (
        "Score 25 is below 50 and no form asks for sales: the lead stays unowned in "
        "marketing nurture."
    )


async def test_rule_6_a_score_reaching_fifty_goes_to_the_bdr_pool_of_the_region(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_US_EAST", [bdr])
    lead = await make.lead(by=ops, title="Developer", country="US", state="MA")

    first = await engage(api, ops, lead, "GATED_ASSET_DOWNLOAD")  # 25
    second = await engage(api, ops, lead, "LIVE_EVENT_ATTENDED")  # 55

    assert first["routing"] is None
    assert decision(second) == ("SCORE_AT_LEAST_50", "BDR_US_EAST", uid(bdr))


# --- round robin ------------------------------------------------------------------------


async def test_round_robin_skips_inactive_and_out_of_office_members(api, make):
    ops = await make.user(Role.SALES_OPS)
    first = await make.user(Role.BDR)
    gone = await make.user(Role.BDR, active=False)
    away = await make.user(Role.BDR, out_of_office_until=utcnow() + timedelta(days=2))
    back = await make.user(Role.BDR, out_of_office_until=utcnow() - timedelta(hours=1))
    await pool(api, ops, "BDR_EMEA", [first, gone, away, back])

    owners = []
    for n in range(3):
        lead = await make.lead(
            by=ops, number_of_employees=5000, country="DE", company=f"Co {n}"
        )
        owners.append(decision(await engage(api, ops, lead, "CONTACT_US_REQUEST"))[2])

    assert owners == [uid(first), uid(back), uid(first)]
    pools = (await api(POOLS, as_user=ops)).ok()["routingPools"]
    assert {"key": "BDR_EMEA", "lastPosition": 0} in pools


# --- passive GitLab.com leads ------------------------------------------------------------


async def test_a_passive_gitlab_com_lead_is_held_then_routed_once_it_raises_its_hand(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [bdr])
    lead = await make.lead(
        by=ops, initial_source="GitLab.com", number_of_employees=5000, country="DE"
    )

    held = await engage(api, ops, lead, "CONTACT_US_REQUEST")
    released = await engage(api, ops, lead, "WEB_CHAT")

    assert decision(held) == ("NOT_ACTIVE", None, None)
    assert (held["slaDueAt"], held["activeUntil"]) == (None, None)
    # Routed on what it asked for: its Contact Us request, with the SLA.
    assert decision(released) == ("CONTACT_US", "BDR_EMEA", uid(bdr))
    assert released["slaDueAt"] is not None
    assert released["activeUntil"] is not None


async def test_a_trial_request_makes_a_gitlab_com_lead_active_and_routes_it(api, make):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_US_APAC", [bdr])
    lead = await make.lead(by=ops, initial_source="gitlab.com", country="JP")

    routed = await engage(api, ops, lead, "TRIAL_REQUEST")

    assert decision(routed) == ("TRIAL_REQUEST", "BDR_US_APAC", uid(bdr))


async def test_a_gitlab_com_lead_whose_activity_ended_is_held_by_route_lead(api, make):
    ops = await make.user(Role.SALES_OPS)
    await pool(api, ops, "BDR_EMEA", [await make.user(Role.BDR)])
    lead = await make.lead(
        by=ops, initial_source="GitLab.com", number_of_employees=5000, country="DE"
    )

    async def expired(s):
        (await s.get(Lead, lead.id)).active_until = utcnow() - timedelta(minutes=1)

    await make.run(expired)
    routed = (
        await api(ROUTE, {"input": {"id": gid(LeadNode, lead.id)}}, as_user=ops)
    ).ok()["routeLead"]["lead"]

    assert decision(routed) == ("NOT_ACTIVE", None, None)


# --- D5: a matched lead takes the account's segment and region ------------------------


async def test_a_matched_lead_takes_the_accounts_segment_and_region_and_routes_by_them(
    api, make
):
    ops = await make.user(Role.SALES_OPS)
    placeholder = await make.user(Role.SALES_ADMIN)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [bdr])
    await pool(api, ops, "CUSTOMER_ADVOCATE_NCSA", [await make.user(Role.BDR)])
    globex = await an_account(
        make,
        ops,
        "Globex",
        placeholder,
        ["globex.example"],
        number_of_employees=5000,
        billing_country="DE",
    )
    # On its own the lead is an SMB in US East.
    lead = await make.lead(
        by=ops, email="hank@globex.example", number_of_employees=20, country="US"
    )

    routed = await engage(api, ops, lead, "CONTACT_US_REQUEST")

    assert (routed["salesSegment"], routed["region"]) == ("LARGE", "EMEA")
    assert routed["account"] == {"id": gid(AccountNode, globex.id)}
    assert decision(routed) == ("CONTACT_US", "BDR_EMEA", uid(bdr))


async def test_the_leads_own_profile_fills_in_what_the_account_does_not_know(api, make):
    ops = await make.user(Role.SALES_OPS)
    await an_account(make, ops, "Vague", None, ["vague.example"])
    lead = await make.lead(
        by=ops,
        email="v@vague.example",
        number_of_employees=500,
        country="US",
        state="CA",
    )

    routed = await engage(api, ops, lead, "CONTACT_US_REQUEST")

    assert routed["account"] is not None
    assert (routed["salesSegment"], routed["region"]) == ("MID_MARKET", "US_WEST")


MOVE = """
mutation($input: TransitionLeadInput!) {
  transitionLead(input: $input) {
    lead { status version } userErrors { code field message }
  }
}"""
OPTIONS = """
query($id: ID!) {
  lead(id: $id) { version availableTransitions { to allowed blockedBy { code field } } }
}"""


async def test_a_gitlab_com_lead_is_accepted_only_while_active(api, make, sessions):
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    lead = await make.lead(by=ops, initial_source="GitLab.com", owner_id=bdr.id)

    async def mql(s):
        (await s.get(Lead, lead.id)).status = LeadStatus.MQL

    await make.run(mql)
    lid = gid(LeadNode, lead.id)
    before = (await api(OPTIONS, {"id": lid}, as_user=bdr)).ok()["lead"]
    refused = (
        await api(MOVE, {"input": {"id": lid, "to": "ACCEPTED"}}, as_user=bdr)
    ).ok()["transitionLead"]
    async with sessions() as s:
        unchanged = await s.get(Lead, lead.id)
    await engage(api, ops, lead, "WEB_CHAT")  # a hand-raiser: Active for 60 days
    after = (await api(OPTIONS, {"id": lid}, as_user=bdr)).ok()["lead"]
    accepted = (
        await api(MOVE, {"input": {"id": lid, "to": "ACCEPTED"}}, as_user=bdr)
    ).ok()["transitionLead"]

    accept_before = next(
        o for o in before["availableTransitions"] if o["to"] == "ACCEPTED"
    )
    assert accept_before == {
        "to": "ACCEPTED",
        "allowed": False,
        "blockedBy": [{"code": "NOT_ACTIVE", "field": ["activeUntil"]}],
    }
    assert refused["lead"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("NOT_ACTIVE", ["activeUntil"])
    ]
    assert refused["userErrors"][0]["message"] == (
        "A lead from GitLab.com can only be accepted while it is Active (after a "
        "hand-raising activity: trial request, high-intent live webcast or demo, web "
        "chat); it never raised its hand."
    )
    assert (unchanged.status, unchanged.version) == (LeadStatus.MQL, before["version"])
    accept_after = next(
        o for o in after["availableTransitions"] if o["to"] == "ACCEPTED"
    )
    assert accept_after == {"to": "ACCEPTED", "allowed": True, "blockedBy": []}
    assert accepted["userErrors"] == []
    assert accepted["lead"]["status"] == "ACCEPTED"


async def test_a_gitlab_com_lead_whose_activity_ended_is_not_accepted(api, make):
    bdr = await make.user(Role.BDR)
    lead = await make.lead(initial_source="GitLab.com", owner_id=bdr.id)
    ended = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)

    async def stale(s):
        row = await s.get(Lead, lead.id)
        row.status = LeadStatus.INQUIRY
        row.active_until = ended

    await make.run(stale)
    refused = (
        await api(
            MOVE,
            {"input": {"id": gid(LeadNode, lead.id), "to": "ACCEPTED"}},
            as_user=bdr,
        )
    ).ok()["transitionLead"]

    assert [e["code"] for e in refused["userErrors"]] == ["NOT_ACTIVE"]
    assert refused["userErrors"][0]["message"].endswith(
        "its activity ended 2024-01-02 03:04 UTC."
    )


async def test_other_initial_sources_are_accepted_without_being_active(api, make):
    bdr = await make.user(Role.BDR)
    lead = await make.lead(initial_source="Web Direct", owner_id=bdr.id)

    async def mql(s):
        (await s.get(Lead, lead.id)).status = LeadStatus.MQL

    await make.run(mql)
    accepted = (
        await api(
            MOVE,
            {"input": {"id": gid(LeadNode, lead.id), "to": "ACCEPTED"}},
            as_user=bdr,
        )
    ).ok()["transitionLead"]

    assert accepted["userErrors"] == []


# --- D8 round 2: requests from owned and named accounts ----------------------------

CREATE = f"""
mutation($input: CreateLeadInput!) {{
  createLead(input: $input) {{ lead {{ {LEAD_FIELDS} personScore }} userErrors {{ code }} }}
}}"""
UPDATE = f"""
mutation($input: UpdateLeadInput!) {{
  updateLead(input: $input) {{ lead {{ {LEAD_FIELDS} personScore }} userErrors {{ code }} }}
}}"""


@pytest.mark.parametrize(
    ("kind", "pool_key", "rule"),
    [
        ("CONTACT_US_REQUEST", "BDR_US_WEST", "CONTACT_US"),
        ("TRIAL_REQUEST", "BDR_US_APAC", "TRIAL_REQUEST"),
    ],
)
async def test_a_request_from_an_owned_account_goes_to_the_bdr_pool_and_tells_the_owner(
    api, make, kind, pool_key, rule
):
    """Seed 002_91dd8e67a169a832.txt, Contact Us: "`Strategic`, `Large` and
    `Mid-Market` Segments: Routed to BDR for qualification"; trials "routed to the
    BDR team based on `Region`, regardless of sales segment" — even when the lead
    matches an account an AE owns; the owner is told (D8 round 2)."""
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, pool_key, [bdr])
    acme = await an_account(
        make,
        ops,
        "Acme Rockets",
        ae,
        ["rockets.example"],
        number_of_employees=3000,
        billing_country="US",
        billing_state="CA",
    )
    lead = await make.lead(by=ops, email="wile@rockets.example", company="Acme Rockets")

    routed = await engage(api, ops, lead, kind)
    told = await events(api, ops, type=["OWNED_ACCOUNT_INBOUND"])

    assert decision(routed) == (rule, pool_key, uid(bdr))
    assert routed["account"] == {"id": gid(AccountNode, acme.id)}
    assert [
        (e["recordId"], e["payload"]["account_owner_id"], e["recipients"]) for e in told
    ] == [
        (
            gid(LeadNode, lead.id),
            ae.id,
            [{"capacity": "ACCOUNT_OWNER", "user": {"id": uid(ae)}}],
        )
    ]


async def test_a_lead_of_a_named_account_goes_to_its_owner_whatever_the_request(
    api, make
):
    """Seeds 000_842db3b45f0d818b.txt / 001_d032691316cfaf8b.txt (LeanData): "if a
    lead from a named account is created, it will be routed directly to the owner
    of the named account" — a trial or Contact Us included (D8 rule 1)."""
    ops = await make.user(Role.SALES_OPS)
    sal = await make.user(Role.SAL)
    await pool(api, ops, "BDR_US_APAC", [await make.user(Role.BDR)])
    await pool(api, ops, "BDR_US_EAST", [await make.user(Role.BDR)])
    await an_account(make, ops, "Big Name", sal, ["bigname.example"], is_named=True)
    trial = await make.lead(by=ops, email="a@bigname.example", country="US")
    contact = await make.lead(by=ops, email="b@bigname.example", country="US")

    by_trial = await engage(api, ops, trial, "TRIAL_REQUEST")
    by_contact = await engage(api, ops, contact, "CONTACT_US_REQUEST")

    assert decision(by_trial) == ("NAMED_ACCOUNT", None, uid(sal))
    assert decision(by_contact) == ("NAMED_ACCOUNT", None, uid(sal))
    assert by_contact["slaDueAt"] is not None


async def test_a_professional_services_request_goes_to_the_account_owner_not_a_pool(
    api, make
):
    """Seed 002_91dd8e67a169a832.txt: Professional Service requests "will be routed
    following `Global Account Ownership` rules"."""
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    await pool(api, ops, "BDR_US_WEST", [await make.user(Role.BDR)])
    await an_account(
        make, ops, "Hooli", ae, ["hooli.example"], number_of_employees=3000
    )
    lead = await make.lead(by=ops, email="gavin@hooli.example", country="US")

    routed = await engage(api, ops, lead, "PROFESSIONAL_SERVICES_REQUEST")

    assert decision(routed) == ("PROFESSIONAL_SERVICES", None, uid(ae))


# --- D6/D8 round 2: every score set or changed at 50 or more is checked -------------


async def test_a_lead_created_with_a_score_of_50_or_more_is_routed_at_creation(
    api, make
):
    """Seed 002_91dd8e67a169a832.txt: "Any record with a `Person Score` greater than
    or equal to 50 points will be inserted into the routing flow … every time a
    `Person Score` is updated, LeanData will run a check" — creation included: a
    Director (+50) with a company email (+5)."""
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [bdr])

    data = (
        await api(
            CREATE,
            {
                "input": {
                    "initialSource": "Web Direct",
                    "lastName": "Curie",
                    "email": "marie@radium.example",
                    "title": "Director of Research",
                    "country": "FR",
                }
            },
            as_user=ops,
        )
    ).ok()["createLead"]

    assert data["userErrors"] == []
    assert data["lead"]["personScore"] == 55
    assert decision(data["lead"]) == ("SCORE_AT_LEAST_50", "BDR_EMEA", uid(bdr))


async def test_a_lead_created_below_50_or_with_an_owner_is_not_routed(api, make):
    ops = await make.user(Role.SALES_OPS)
    ae = await make.user(Role.AE)
    await pool(api, ops, "BDR_EMEA", [await make.user(Role.BDR)])
    base = {"initialSource": "Web Direct", "lastName": "Curie", "country": "FR"}

    low = (
        await api(
            CREATE,
            {"input": {**base, "email": "a@radium.example", "title": "Analyst"}},
            as_user=ops,
        )
    ).ok()["createLead"]["lead"]
    owned = (
        await api(
            CREATE,
            {
                "input": {
                    **base,
                    "email": "b@radium.example",
                    "title": "Director",
                    "ownerId": uid(ae),
                }
            },
            as_user=ops,
        )
    ).ok()["createLead"]["lead"]

    assert (low["personScore"], low["routing"], low["owner"]) == (5, None, None)
    assert (owned["personScore"], owned["routing"]) == (55, None)
    assert owned["owner"] == {"id": uid(ae)}


async def test_a_profile_change_that_sets_the_score_above_50_routes_the_lead(api, make):
    """Seed 002_91dd8e67a169a832.txt: "every time a `Person Score` is updated,
    LeanData will run a check" — a new title is a score update too."""
    ops = await make.user(Role.SALES_OPS)
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_US_EAST", [bdr])
    lead = await make.lead(by=ops, title="Analyst", country="US", state="NY")

    data = (
        await api(
            UPDATE,
            {"input": {"id": gid(LeadNode, lead.id), "title": "VP Engineering"}},
            as_user=ops,
        )
    ).ok()["updateLead"]

    assert data["userErrors"] == []
    assert data["lead"]["personScore"] == 55
    assert decision(data["lead"]) == ("SCORE_AT_LEAST_50", "BDR_US_EAST", uid(bdr))


async def test_a_score_that_changes_above_50_routes_an_unowned_lead_again(api, make):
    """Seed 002_91dd8e67a169a832.txt: "every time a `Person Score` is updated,
    LeanData will run a check" — not only when it crosses 50: a lead left unowned
    (nobody in the pool) is routed on its next score change."""
    ops = await make.user(Role.SALES_OPS)
    lead = await make.lead(by=ops, title="Director", country="DE")  # 55, pool empty
    bdr = await make.user(Role.BDR)
    await pool(api, ops, "BDR_EMEA", [bdr])

    routed = await engage(api, ops, lead, "PRICING_PAGE_VISIT")  # 65

    assert decision(routed) == ("SCORE_AT_LEAST_50", "BDR_EMEA", uid(bdr))


async def test_a_hand_raise_70_days_ago_does_not_make_a_gitlab_com_lead_active(
    api, make
):
    """Seed 002_91dd8e67a169a832.txt: "'Active' for a minimum of 60 days from the
    date of the handraising activity" — the engagement's occurredAt, not when it
    was recorded."""
    ops = await make.user(Role.SALES_OPS)
    await pool(api, ops, "BDR_EMEA", [await make.user(Role.BDR)])
    lead = await make.lead(
        by=ops, initial_source="GitLab.com", number_of_employees=5000, country="DE"
    )
    long_ago = (utcnow() - timedelta(days=70)).replace(microsecond=0)
    await engage(api, ops, lead, "CONTACT_US_REQUEST")

    data = (
        await api(
            RECORD,
            {
                "input": {
                    "leadId": gid(LeadNode, lead.id),
                    "kind": "WEB_CHAT",
                    "occurredAt": long_ago.isoformat(),
                }
            },
            as_user=ops,
        )
    ).ok()["recordEngagement"]

    assert data["userErrors"] == []
    held = data["lead"]
    assert held["activeUntil"] == (long_ago + timedelta(days=60)).isoformat()
    assert decision(held) == ("NOT_ACTIVE", None, None)
