"""Warning letters: polite, factual, filled from the case. One letter per storefront, never a flood."""

from __future__ import annotations

from string import Template
from typing import Any

from django.utils.translation import gettext as _

from cases.models import Case, CaseStorefront, Storefront, WarningTemplate
from cases.models.letters import LetterKind, LetterLanguage
from cases.selectors import operator_links_of, primary_ip_right
from evidence.amazon import MARKETPLACES

DEFAULTS: dict[tuple[str, str], str] = {
    (LetterKind.FIRST_WARNING, LetterLanguage.ENGLISH): """Hello $storefront_name,

We are contacting you about your offer on ASIN $asin ($domain). $brand is a trademark of $rights_owner, registered with $office under number $registration_number. We have not authorized your store (seller ID $seller_id) to sell $brand products.

Please remove your offer from this listing. If it remains, we will report the infringement to Amazon through its Report Infringement process.

If you believe your products are genuine and come from an authorized source, please reply with your supplier's invoice so that we can review it.

Regards,
$contact_name, for $rights_owner""",
    (LetterKind.MULTI_ACCOUNT, LetterLanguage.ENGLISH): """Hello,

We are contacting you about offers on ASIN $asin ($domain). $brand is a trademark of $rights_owner, registered with $office under number $registration_number.

Our records show that the following storefronts, which we have linked to one business, offered this product without our authorization:
$storefront_list

Please remove all of these offers. If they remain, we will report the infringement, and the connection between these accounts, to Amazon.

Regards,
$contact_name, for $rights_owner""",
    (LetterKind.FIRST_WARNING, LetterLanguage.CHINESE): """$storefront_name 您好：

我们注意到贵店（卖家编号 $seller_id）正在亚马逊 $domain 的 ASIN $asin 上跟卖。$brand 是 $rights_owner 的注册商标（$office 注册号 $registration_number），我们从未授权贵店销售 $brand 产品。

请尽快撤下该商品的报价。如报价仍在，我们将通过亚马逊的侵权举报渠道（Report Infringement）进行投诉。

如果您认为所售商品为正品且来自授权渠道，请回复并提供供应商发票，我们会予以核实。

此致
$contact_name（代表 $rights_owner）""",
    (LetterKind.MULTI_ACCOUNT, LetterLanguage.CHINESE): """您好：

我们注意到以下店铺在亚马逊 $domain 的 ASIN $asin 上跟卖。根据我们的记录，这些店铺属于同一经营者：
$storefront_list

$brand 是 $rights_owner 的注册商标（$office 注册号 $registration_number），我们从未授权上述店铺销售 $brand 产品。请撤下上述全部报价。如报价仍在，我们将向亚马逊举报侵权行为以及上述账户之间的关联。

此致
$contact_name（代表 $rights_owner）""",
}
PLACEHOLDERS = (
    "asin",
    "domain",
    "brand",
    "rights_owner",
    "office",
    "registration_number",
    "mark",
    "contact_name",
    "storefront_name",
    "seller_id",
    "storefront_list",
)


def check_template(body: str) -> list[str]:
    """Problems with a team's wording: malformed $ signs or unknown placeholders."""
    template = Template(body)
    if not template.is_valid():
        return [_("A $ sign is not followed by a placeholder name; write $$ for a dollar sign.")]
    unknown = sorted(set(template.get_identifiers()) - set(PLACEHOLDERS))
    if unknown:
        names = ", ".join(f"${name}" for name in unknown)
        known = ", ".join(f"${name}" for name in PLACEHOLDERS)
        return [_("Unknown placeholders %(names)s; use %(known)s.") % {"names": names, "known": known}]
    return []


def template_text(team_id: int, kind: str, language: str) -> str:
    own = WarningTemplate.objects.filter(team_id=team_id, kind=kind, language=language).first()
    return own.body if own is not None else DEFAULTS[(kind, language)]


def _operator_storefronts(case: Case, storefront: Storefront) -> list[Storefront]:
    """The storefront and those linked to it as one operator that appear on this case."""
    linked = {link.storefront_id for link in operator_links_of(storefront=storefront)}
    on_case = CaseStorefront.objects.filter(case=case).select_related("storefront").order_by("first_seen", "id")
    return [link.storefront for link in on_case if link.storefront_id in linked | {storefront.pk}]


def draft(*, case: Case, storefront: Storefront, kind: str, language: str) -> dict[str, Any]:
    """The letter filled from the case; a value the case lacks shows as [what is missing]."""
    brand = case.brand
    right = primary_ip_right(brand)
    storefronts = _operator_storefronts(case, storefront) if kind == LetterKind.MULTI_ACCOUNT else [storefront]
    values = {
        "asin": case.asin,
        "domain": MARKETPLACES[case.marketplace].domain,
        "brand": right.mark_text if right and right.mark_text else brand.name,
        "rights_owner": brand.rights_owner or "[rights owner]",
        "office": right.office if right and right.office else "[registration office]",
        "registration_number": right.registration_number
        if right and right.registration_number
        else "[registration number]",
        "mark": right.mark_text if right else brand.name,
        "contact_name": brand.contact_name or "[your name]",
        "storefront_name": storefront.name or storefront.seller_id,
        "seller_id": storefront.seller_id,
        "storefront_list": "\n".join(
            f"- {s.name or s.seller_id} ({s.seller_id}) {s.storefront_url}" for s in storefronts
        ),
    }
    text = Template(template_text(case.team_id, kind, language)).safe_substitute(values)
    return {"kind": kind, "language": language, "text": text, "storefronts": [s.seller_id for s in storefronts]}
