"""Every write of the case domain. Each records its audit row in its own transaction."""

from cases.services.brands import (
    authorized_seller_add,
    authorized_seller_remove,
    brand_create,
    brand_update,
    ip_right_create,
    ip_right_update,
)
from cases.services.cases import case_open, case_transition, case_update
from cases.services.evidence import evidence_ingest, evidence_withdraw
from cases.services.records import (
    submission_record,
    submission_set_outcome,
    test_buy_add_photo,
    test_buy_record,
    test_buy_update,
    warning_record,
    warning_record_reply,
    warning_template_set,
)
from cases.services.storefronts import (
    case_storefront_mark_gone,
    operator_link,
    sighting_record,
    storefront_attach,
    storefront_update,
)
from cases.services.teams import membership_remove, membership_set, team_create

__all__ = [
    "authorized_seller_add",
    "authorized_seller_remove",
    "brand_create",
    "brand_update",
    "case_open",
    "case_storefront_mark_gone",
    "case_transition",
    "case_update",
    "evidence_ingest",
    "evidence_withdraw",
    "ip_right_create",
    "ip_right_update",
    "membership_remove",
    "membership_set",
    "operator_link",
    "sighting_record",
    "storefront_attach",
    "storefront_update",
    "submission_record",
    "submission_set_outcome",
    "team_create",
    "test_buy_add_photo",
    "test_buy_record",
    "test_buy_update",
    "warning_record",
    "warning_record_reply",
    "warning_template_set",
]
