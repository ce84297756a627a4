"""Tests of the shipped reference lists: regions, job categories, education levels."""

from __future__ import annotations

from collections import Counter

from app.organisations import reference
from app.organisations.validators import RESIDENT_ID_PROVINCES, normalise_region_code

# The job category codes of DOMAIN.md: part of the public contract.
DOMAIN_JOB_CATEGORIES = {
    "general.underground",
    "general.open_pit",
    "general.principal",
    "general.safety_manager",
    "coal.underground_electrician",
    "coal.blasting",
    "coal.safety_monitoring",
    "coal.gas_inspection",
    "coal.safety_inspection",
    "coal.hoist_operation",
    "coal.shearer_operation",
    "coal.gas_drainage",
    "coal.outburst_prevention",
    "coal.water_exploration",
    "metal.ventilation",
    "metal.tailings",
    "metal.hoist_operation",
    "metal.blasting",
    "metal.drainage",
    "metal.safety_inspection",
}


def test_every_region_code_is_in_short_form() -> None:
    for row in reference.regions():
        assert isinstance(row["code"], str)
        assert normalise_region_code(row["code"]) == row["code"], row


def test_region_codes_are_unique() -> None:
    counts = Counter(row["code"] for row in reference.regions())
    assert [code for code, n in counts.items() if n > 1] == []


def test_there_are_34_provinces() -> None:
    provinces = reference.province_codes()
    assert len(provinces) == 34
    # The same set the resident ID check accepts, less 83 (Taiwan residence permits).
    assert provinces == RESIDENT_ID_PROVINCES - {"83"}
    assert {"11", "14", "15", "61", "65", "71", "81", "82"} <= provinces


def test_every_region_belongs_to_a_shipped_province_and_prefecture() -> None:
    codes = {row["code"] for row in reference.regions()}
    provinces = reference.province_codes()
    for code in codes:
        assert code[:2] in provinces, code
        # A county sits under its prefecture, except in the four municipalities (their
        # "市辖区"/"县" pseudo-prefectures 1101, 5002...) and under the "directly administered"
        # pseudo-prefectures (xx90), which the list leaves out on purpose.
        if len(code) == 6 and code[2:4] != "90" and code[:2] not in {"11", "12", "31", "50"}:
            assert code[:4] in codes, code
    assert not {"1101", "1201", "3101", "5001", "5002", "4190", "4290", "4690", "6590"} & codes


def test_the_complete_current_list_ships_with_every_county() -> None:
    codes = reference.region_codes()
    by_level = Counter(len(code) for code in codes)
    # MCA list for 2024: 34 provincial, 333 prefecture-level and 2,846 county-level divisions.
    assert (by_level[2], by_level[4], by_level[6]) == (34, 333, 2846)
    assert codes == {row["code"] for row in reference.regions()}
    # Counties of every province, the coal regions among them.
    assert {"140105", "140213", "140403", "140524", "150622", "150627", "610881", "520203",
            "110101", "500101", "659001", "419001", "469001"} <= codes
    assert reference.region("140403") == {"code": "140403", "en": "Luzhou District",
                                          "zh": "潞州区"}
    # Codes that do not exist.
    assert not {"149999", "1499", "1490", "140199", "99", "1100"} & codes
    assert reference.is_region("140105") and not reference.is_region("149999")


def test_find_regions_by_code_prefix_long_form_and_name() -> None:
    assert [r["code"] for r in reference.find_regions("14", limit=3)] == ["14", "1401", "140105"]
    by_long = [r["code"] for r in reference.find_regions("140100", limit=50)]
    assert by_long[0] == "1401" and all(code.startswith("1401") for code in by_long)
    assert len(by_long) == 11  # Taiyuan and its 10 counties
    assert [r["code"] for r in reference.find_regions("小店")] == ["140105"]
    assert "1506" in [r["code"] for r in reference.find_regions("ordos")]
    assert reference.find_regions("149999") == [] and reference.find_regions("  ") == []
    assert len(reference.find_regions("区", limit=20)) == 20
    names = reference.find_regions("14", limit=1)
    names[0]["en"] = "changed"
    assert reference.region("14")["en"] == "Shanxi"


def test_main_coal_prefectures_are_named() -> None:
    codes = {row["code"] for row in reference.regions()}
    shanxi = {f"14{n:02d}" for n in range(1, 12)}
    shaanxi = {f"61{n:02d}" for n in range(1, 11)}
    inner_mongolia = {f"15{n:02d}" for n in range(1, 10)} | {"1522", "1525", "1529"}
    guizhou = {f"52{n:02d}" for n in range(1, 7)} | {"5223", "5226", "5227"}
    ningxia = {f"64{n:02d}" for n in range(1, 6)}
    assert shanxi | shaanxi | inner_mongolia | guizhou | ningxia <= codes
    assert {"140105", "140106", "140107", "140108", "150602", "610802"} <= codes


def test_regions_have_names() -> None:
    for row in reference.regions():
        assert set(row) == {"code", "en", "zh"}, row
        assert row["en"].strip() and row["zh"].strip(), row
    assert reference.region("14") == {"code": "14", "en": "Shanxi", "zh": "山西省"}
    assert reference.region("1506") == {"code": "1506", "en": "Ordos", "zh": "鄂尔多斯市"}
    assert reference.region("140105") == {
        "code": "140105",
        "en": "Xiaodian District",
        "zh": "小店区",
    }
    assert reference.region("140000") is None  # only short codes are looked up


def test_job_category_codes_are_exactly_the_domain_ones() -> None:
    rows = reference.job_categories()
    assert len(rows) == 20
    assert [row["code"] for row in rows].count("coal.blasting") == 1
    assert reference.job_category_codes() == DOMAIN_JOB_CATEGORIES


def test_special_operations_are_the_coal_and_metal_categories() -> None:
    for row in reference.job_categories():
        assert set(row) == {"code", "en", "zh", "special_operation"}, row
        assert row["special_operation"] is row["code"].startswith(("coal.", "metal.")), row
        assert row["en"].strip() and row["zh"].strip(), row
    assert reference.special_operation_codes() == {
        code for code in DOMAIN_JOB_CATEGORIES if not code.startswith("general.")
    }


def test_education_levels() -> None:
    assert [row["code"] for row in reference.education_levels()] == [
        "primary",
        "junior_middle",
        "high_school",
        "junior_college",
        "bachelor",
        "postgraduate",
    ]
    assert reference.education_level_codes() == {
        "primary",
        "junior_middle",
        "high_school",
        "junior_college",
        "bachelor",
        "postgraduate",
    }
    for row in reference.education_levels():
        assert row["en"].strip() and row["zh"].strip(), row


def test_results_are_copies() -> None:
    reference.regions()[0]["en"] = "changed"
    reference.job_categories().clear()
    assert reference.regions()[0]["en"] == "Beijing"
    assert len(reference.job_categories()) == 20
