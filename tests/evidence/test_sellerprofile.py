from pathlib import Path

import pytest

from evidence.sellerprofile import (
    ADDRESS_MAX,
    BUSINESS_NAME_MAX,
    MAX_INPUT_CHARS,
    NAME_MAX,
    PHONE_MAX,
    SellerProfile,
    parse_seller_profile,
)

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / f"seller_profile_{name}.html").read_text(encoding="utf-8")


def detail_page(rows: str, *, name: str = "Shop") -> str:
    """A 2022-layout profile page whose detail box holds ``rows``."""
    return (
        '<html><body><div id="seller-profile-container" class="a-section spp-redesigned">'
        f'<h1 id="seller-name">{name}</h1>'
        '<div id="page-section-detail-seller-info" class="a-row"><div class="a-column a-span12 a-spacing-none">'
        '<div class="a-box a-spacing-none a-color-base-background box-section">'
        '<div class="a-box-inner a-padding-medium">'
        '<div class="a-row a-spacing-small"><h3>Detailed Seller Information</h3></div>'
        f"{rows}</div></div></div></div></div></body></html>"
    )


def row(label: str, value: str = "") -> str:
    value_span = f"<span>{value}</span>" if value else ""
    return f'<div class="a-row a-spacing-none"><span class="a-text-bold">{label}</span>{value_span}</div>'


def address_rows(*lines: str) -> str:
    return "".join(f'<div class="a-row a-spacing-none indent-left"><span>{line}</span></div>' for line in lines)


# --- sample pages -------------------------------------------------------------------------


def test_us_profile():
    assert parse_seller_profile(sample("us")) == SellerProfile(
        name="Harbor & Pine Goods",
        business_name="Harbor & Pine Trading LLC",
        business_address="5822 W Third ST #101\nLos Angeles\nCA\n90036\nUS",
        phone="",
    )


def test_de_profile_takes_the_business_address_not_the_customer_service_one():
    profile = parse_seller_profile(sample("de"))
    assert profile == SellerProfile(
        name="Müller & Söhne Shop",
        business_name="Müller & Söhne Handels GmbH",
        business_address="Hauptstraße 12\nBerlin\nBerlin\n10115\nDE",
        phone="+49 30 1234567",
    )
    # The imprint in the about text and the customer service address carry other numbers.
    assert "Lagerweg" not in profile.business_address


def test_jp_profile_in_the_older_list_layout():
    assert parse_seller_profile(sample("jp")) == SellerProfile(
        name="さくら雑貨ストア",
        business_name="株式会社さくら商事",
        business_address="丸の内1-2-3 さくらビル5階\n千代田区\n東京都\n1000005\nJP",
        phone="03-1234-5678",
    )


def test_profile_without_details_has_only_the_name():
    # The about text says "Business Name: ask us" and "Phone number: 555-0199" in plain text:
    # the seller's own words, not Amazon's details.
    assert parse_seller_profile(sample("no_details")) == SellerProfile(name="Vintage Finds Outlet")


def test_scripts_and_styles_are_not_read_as_markup():
    page = sample("us")
    assert "NOT FROM SCRIPT" in page
    profile = parse_seller_profile(page)
    assert "SCRIPT" not in profile.business_name
    assert profile.phone == ""


# --- values are text ----------------------------------------------------------------------


def test_entity_encoded_markup_comes_back_as_literal_text():
    page = sample("us").replace("Harbor &amp; Pine Trading LLC", "&lt;script&gt;alert(1)&lt;/script&gt;")
    assert parse_seller_profile(page).business_name == "<script>alert(1)</script>"


def test_markup_inside_a_value_is_reduced_to_its_text():
    page = detail_page(
        row("Business Name:", '<b>Evil</b> <i onmouseover="x()">Corp</i><img src=x onerror="alert(1)">')
        + row("Business Address:")
        + address_rows('<a href="javascript:alert(1)">1 Main St</a>', "<script>alert(2)</script>Springfield")
    )
    profile = parse_seller_profile(page)
    assert profile.business_name == "Evil Corp"
    assert profile.business_address == "1 Main St\nSpringfield"


def test_control_characters_dropped_and_whitespace_collapsed():
    page = detail_page(
        row("Business Name:", "  Acme\u202e\u200b \x07Tools&#0;\n\n\t  Ltd\u00a0 ")
        + row("Phone number:", "\u3000+1 (555)\u00a0\x00010-0000 ")
        + row("Business Address:")
        + address_rows("  12\x0b  Main   St ", "\u200b", "Springfield"),
        name="\x1b[31mRed\x1b[0m   Shop",
    )
    assert parse_seller_profile(page) == SellerProfile(
        name="[31mRed[0m Shop",
        business_name="Acme Tools\ufffd Ltd",
        business_address="12 Main St\nSpringfield",
        phone="+1 (555) 010-0000",
    )


def test_fields_are_capped():
    page = detail_page(
        row("Business Name:", "N" * 5000)
        + row("Phone number:", "5" * 500)
        + row("Business Address:")
        + address_rows(*(["A" * 400] * 8)),
        name="S" * 5000,
    )
    profile = parse_seller_profile(page)
    assert len(profile.name) == NAME_MAX
    assert len(profile.business_name) == BUSINESS_NAME_MAX
    assert len(profile.phone) == PHONE_MAX
    assert len(profile.business_address) <= ADDRESS_MAX
    assert profile.business_address.startswith("A" * 400 + "\n")


# --- labels and layouts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name_label", "address_label", "phone_label"),
    [
        ("Business Name:", "Business Address:", "Business Phone:"),
        ("Business Name:", "Business Address:", "Phone number:"),
        ("Geschäftsname:", "Geschäftsadresse:", "Telefonnummer:"),
        ("Nom commercial :", "Adresse commerciale :", "Numéro de téléphone :"),
        ("Nome dell'azienda:", "Indirizzo dell'azienda:", "Numero di telefono:"),
        ("Nombre de la empresa:", "Dirección de la empresa:", "Número de teléfono:"),
        ("販売業者:", "住所:", "お問い合わせ先電話番号:"),
        ("公司名称：", "地址：", "客户服务电话号码："),
    ],
)
def test_localized_labels(name_label, address_label, phone_label):
    page = detail_page(
        row(name_label, "Acme GmbH")
        + row("UStID:", "DE123456789")
        + row(phone_label, "+49 30 1234567")
        + row(address_label)
        + address_rows("Hauptstraße 1", "10115 Berlin", "DE")
    )
    assert parse_seller_profile(page) == SellerProfile(
        name="Shop",
        business_name="Acme GmbH",
        business_address="Hauptstraße 1\n10115 Berlin\nDE",
        phone="+49 30 1234567",
    )


def test_label_and_value_in_one_bold_span():
    page = detail_page('<div class="a-row"><span class="a-text-bold">Business Name: Acme Inc</span></div>')
    assert parse_seller_profile(page).business_name == "Acme Inc"


def test_unstyled_labels_inside_the_detail_block():
    page = detail_page(
        '<div class="a-row"><span>Business Name:</span><span>Plain Co</span></div>'
        '<div class="a-row"><span>Business Address:</span></div>' + address_rows("9 Side St", "US")
    )
    profile = parse_seller_profile(page)
    assert profile.business_name == "Plain Co"
    assert profile.business_address == "9 Side St\nUS"


def test_value_on_the_line_after_its_label():
    page = detail_page(
        row("Business Name:")
        + '<div class="a-row"><span>Next Line Co</span></div>'
        + row("Phone number:")
        + "<br>555 0100"
    )
    profile = parse_seller_profile(page)
    assert profile.business_name == "Next Line Co"
    assert profile.phone == "555 0100"


def test_address_on_the_label_row_and_rows_after_a_bold_row_end_it():
    page = detail_page(
        row("Business Address:", "1 First St")
        + address_rows("Town")
        + row("Business Type:", "LLC")
        + address_rows("Not an address line")
    )
    assert parse_seller_profile(page).business_address == "1 First St\nTown"


def test_chinese_interface_on_the_older_list_layout():
    # amazon.co.jp with language=zh_CN: English name label, Chinese address label, list items.
    page = (
        '<div id="seller-profile-container"><h1 id="sellerName">kunneng</h1>'
        '<h3 id="-component-heading">详尽的卖家信息</h3><ul class="a-unordered-list a-nostyle a-vertical">'
        '<li><span class="a-list-item"><span class="a-text-bold">Business Name:</span>'
        "Dongguan Example Trading Co., Ltd</span></li>"
        '<li><span class="a-list-item"><span class="a-text-bold">咨询用电话号码:</span>+8613000000000</span></li>'
        '<li><span class="a-list-item"><span class="a-text-bold">地址:</span>'
        '<ul class="a-unordered-list a-nostyle a-vertical">'
        '<li><span class="a-list-item">东坑镇示例路77号</span></li><li><span class="a-list-item">东莞市</span></li>'
        '<li><span class="a-list-item">广东</span></li><li><span class="a-list-item">523451</span></li>'
        '<li><span class="a-list-item">CN</span></li></ul></span></li>'
        '<li><span class="a-list-item"><span class="a-text-bold">商店名:</span>kunneng</span></li></ul></div>'
    )
    assert parse_seller_profile(page) == SellerProfile(
        name="kunneng",
        business_name="Dongguan Example Trading Co., Ltd",
        business_address="东坑镇示例路77号\n东莞市\n广东\n523451\nCN",
        phone="+8613000000000",
    )


def test_name_falls_back_to_the_older_ids_and_the_profile_heading():
    assert parse_seller_profile('<h1 id="sellerName-rd">Old Shop</h1>').name == "Old Shop"
    assert parse_seller_profile('<div id="seller-profile-container"><h1>Plain Heading</h1></div>').name == (
        "Plain Heading"
    )
    # An h1 elsewhere is not a storefront name.
    assert parse_seller_profile("<h1>Sorry! Something went wrong!</h1>").name == ""


def test_contact_phone_element_when_the_details_have_none():
    page = detail_page(row("Business Name:", "Acme")) + '<span id="seller-contact-phone">+44 20 7946 0000</span>'
    assert parse_seller_profile(page).phone == "+44 20 7946 0000"


def test_a_placeholder_phone_does_not_hide_a_real_one():
    page = detail_page(row("Phone number:", "Available on request") + row("Customer service phone:", "0800 123 456"))
    assert parse_seller_profile(page).phone == "0800 123 456"


# --- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        " \n\t ",
        "not html at all",
        "<",
        "</",
        "<<<>>>",
        "<!--",
        "<a href='unterminated",
        "<html><body><p>Hello</p></body></html>",
        "\x00\x01\x02\ufffd\ud800",
        "<b>Business Name:</b>",
        "&lt;&gt;&amp;&#x110000;&#0;&bogus;",
        "".join(chr(i * 7919 % 0x3000 + 1) for i in range(20_000)),  # scattered characters, "<" and "&" too
    ],
)
def test_garbage_gives_an_empty_profile(garbage):
    assert parse_seller_profile(garbage) == SellerProfile()


def test_bytes_and_non_strings_do_not_raise():
    assert parse_seller_profile(sample("us").encode()).business_name == "Harbor & Pine Trading LLC"
    assert parse_seller_profile(None) == SellerProfile()


def test_truncated_page_keeps_what_was_read():
    page = sample("us")
    cut = page.index("<span>CA</span>")
    profile = parse_seller_profile(page[:cut])
    assert profile.business_name == "Harbor & Pine Trading LLC"
    assert profile.business_address == "5822 W Third ST #101\nLos Angeles"


@pytest.mark.parametrize(
    "build",
    [
        lambda size: (sample("us") * (size // len(sample("us")) + 1))[:size],
        lambda size: "<div>" * (size // 5),
        lambda size: "<a " * (size // 3),
        lambda size: "</a>" * (size // 4),
        lambda size: '<div class="indent-left"><span class="a-text-bold">x</span></div>' * (size // 64),
        lambda size: "<![CDATA[" * (size // 9),
        lambda size: "&amp;" * (size // 5),
        lambda size: "<ul><li>" * (size // 8),
    ],
    ids=["pages", "divs", "open-tags", "end-tags", "rows", "cdata", "entities", "lists"],
)
def test_ten_megabytes_of_hostile_markup_parse_to_a_profile(build):
    # How long they take is measured by bench/sellerprofile.py, not here.
    doc = build(10 * 1024 * 1024)
    assert len(doc) > MAX_INPUT_CHARS
    assert isinstance(parse_seller_profile(doc), SellerProfile)
