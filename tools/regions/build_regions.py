"""Rebuild app/organisations/data/regions.yaml from the vendored GB/T 2260 list (see README.md).

A development tool: needs pypinyin and PyYAML, which the application itself does not use.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pypinyin import Style, load_phrases_dict, pinyin

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "mca-2024.txt"
TARGET = HERE.parents[1] / "app" / "organisations" / "data" / "regions.yaml"

# The names of ethnic groups as they appear in autonomous counties and banners, longest first
# where one name ends another (土家族 before 土族).
ETHNIC = {
    "蒙古族": "Mongol", "回族": "Hui", "藏族": "Tibetan", "维吾尔族": "Uygur", "苗族": "Miao",
    "彝族": "Yi", "壮族": "Zhuang", "布依族": "Bouyei", "朝鲜族": "Korean", "满族": "Manchu",
    "侗族": "Dong", "瑶族": "Yao", "白族": "Bai", "土家族": "Tujia", "哈尼族": "Hani",
    "哈萨克族": "Kazak", "傣族": "Dai", "黎族": "Li", "傈僳族": "Lisu", "佤族": "Va",
    "畲族": "She", "拉祜族": "Lahu", "水族": "Shui", "东乡族": "Dongxiang", "纳西族": "Naxi",
    "景颇族": "Jingpo", "柯尔克孜族": "Kirgiz", "土族": "Tu", "达斡尔族": "Daur",
    "仫佬族": "Mulao", "羌族": "Qiang", "撒拉族": "Salar", "毛南族": "Maonan",
    "仡佬族": "Gelao", "锡伯族": "Xibe", "普米族": "Pumi", "塔吉克族": "Tajik", "怒族": "Nu",
    "鄂温克族": "Evenki", "保安族": "Bonan", "裕固族": "Yugur", "独龙族": "Derung",
    "鄂伦春族": "Oroqen", "各族": "Multi-ethnic",
    # Written without 族 in a few names (和布克赛尔蒙古自治县, 察布查尔锡伯自治县).
    "蒙古": "Mongol", "哈萨克": "Kazak", "塔吉克": "Tajik", "锡伯": "Xibe",
}
# Suffix -> English type word, longest first. County-level cities take no word ("Shenmu").
SUFFIXES = [
    ("自治县", "Autonomous County"), ("自治旗", "Autonomous Banner"),
    ("特区", "Special District"), ("林区", "Forestry District"), ("矿区", "Mining District"),
    ("区", "District"), ("县", "County"), ("旗", "Banner"), ("市", ""),
]
# Readings pypinyin gets wrong in place names.
load_phrases_dict({
    "长治": [["cháng"], ["zhì"]], "长春": [["cháng"], ["chūn"]], "长沙": [["cháng"], ["shā"]],
    "乐亭": [["lào"], ["tíng"]], "六安": [["lù"], ["ān"]], "蚌埠": [["bèng"], ["bù"]],
    "长子": [["zhǎng"], ["zǐ"]], "长安": [["cháng"], ["ān"]], "长宁": [["cháng"], ["níng"]],
    "长丰": [["cháng"], ["fēng"]], "长兴": [["cháng"], ["xīng"]], "长垣": [["cháng"], ["yuán"]],
    "长乐": [["cháng"], ["lè"]], "长阳": [["cháng"], ["yáng"]], "长寿": [["cháng"], ["shòu"]],
    "长武": [["cháng"], ["wǔ"]], "长岭": [["cháng"], ["lǐng"]], "长白": [["cháng"], ["bái"]],
    "长汀": [["cháng"], ["tīng"]], "长泰": [["cháng"], ["tài"]], "长顺": [["cháng"], ["shùn"]],
    "长海": [["cháng"], ["hǎi"]], "长葛": [["cháng"], ["gě"]], "长清": [["cháng"], ["qīng"]],
    "长沙县": [["cháng"], ["shā"], ["xiàn"]], "重庆": [["chóng"], ["qìng"]],
    "东阿": [["dōng"], ["ē"]], "铅山": [["yán"], ["shān"]], "番禺": [["pān"], ["yú"]],
    "大埔": [["dà"], ["bù"]], "涪陵": [["fú"], ["líng"]], "洪洞": [["hóng"], ["tóng"]],
    "单县": [["shàn"], ["xiàn"]], "莘县": [["shēn"], ["xiàn"]], "郫都": [["pí"], ["dū"]],
    "筠连": [["jūn"], ["lián"]], "蔚县": [["yù"], ["xiàn"]], "会昌": [["huì"], ["chāng"]],
    "会理": [["huì"], ["lǐ"]], "会东": [["huì"], ["dōng"]], "会泽": [["huì"], ["zé"]],
    "会宁": [["huì"], ["níng"]], "会同": [["huì"], ["tóng"]], "枞阳": [["zōng"], ["yáng"]],
    "繁峙": [["fán"], ["shì"]], "朝阳": [["cháo"], ["yáng"]], "厦门": [["xià"], ["mén"]],
    "尉氏": [["wèi"], ["shì"]], "都安": [["dū"], ["ān"]], "牟平": [["mù"], ["píng"]],
    "洞头": [["dòng"], ["tóu"]], "华县": [["huà"], ["xiàn"]], "华阴": [["huà"], ["yīn"]],
})


def romanise(text: str) -> str:
    """Pinyin without tones as one capitalised word, with an apostrophe before a/o/e."""
    syllables = [s[0] for s in pinyin(text, style=Style.NORMAL, v_to_u=True)]
    word = ""
    for i, syllable in enumerate(syllables):
        if i and syllable[:1] in ("a", "o", "e"):
            word += "'"
        word += syllable
    return word[:1].upper() + word[1:]


def english_name(zh: str) -> str:
    """An English name for a county-level division from its Chinese name."""
    for suffix, kind in SUFFIXES:  # noqa: B007 (kind is used after the break)
        if zh.endswith(suffix) and len(zh) - len(suffix) >= 2:
            base = zh[: -len(suffix)]
            break
    else:
        # Two-character names keep their type in the name: 城区 -> "Chengqu District".
        return romanise(zh) + " District" if zh.endswith("区") else romanise(zh)
    groups: list[str] = []
    if kind.startswith("Autonomous"):
        while True:
            match = next((name for name in sorted(ETHNIC, key=len, reverse=True)
                          if base.endswith(name) and len(base) > len(name)), None)
            if match is None:
                break
            groups.insert(0, ETHNIC[match])
            base = base[: -len(match)]
    name = romanise(base)
    if groups:
        name += " " + (", ".join(groups[:-1]) + " and " + groups[-1] if len(groups) > 1
                       else groups[0])
    return f"{name} {kind}".strip()


def short(code: str) -> str:
    while code.endswith("00"):
        code = code[:-2]
    return code


def main() -> None:
    existing = {str(row["code"]): row for row in yaml.safe_load(TARGET.read_text("utf-8"))}
    rows: list[tuple[str, str]] = []
    for line in SOURCE.read_text("utf-8").splitlines():
        if line.strip():
            code, name = line.split(maxsplit=1)
            if not re.fullmatch(r"[1-9][0-9]{5}", code):
                raise SystemExit(f"bad line: {line!r}")
            rows.append((short(code), name.strip()))
    provinces = {code: name for code, name in rows if len(code) == 2}
    out = [HEADER.rstrip("\n")]
    kept = made = 0
    for code, zh in rows:
        if len(code) == 2:
            out.append("")
            out.append(f"# --- {code} {existing[code]['en']} ---")
        if code in existing:
            en = existing[code]["en"]
            kept += 1
        elif len(code) == 6:
            en = english_name(zh)
            made += 1
        else:
            raise SystemExit(f"no English name for the new {code} {zh}: add it by hand")
        assert code[:2] in provinces, code
        out.append(f"- {{code: \"{code}\", en: {yaml_str(en)}, zh: \"{zh}\"}}")
    gone = sorted(set(existing) - {code for code, _zh in rows})
    TARGET.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{len(rows)} regions: {kept} names kept, {made} made from pinyin; "
          f"no longer listed: {gone}")


def yaml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


HEADER = """\
# Administrative divisions of the People's Republic of China (GB/T 2260).
#
# GENERATED by tools/regions/build_regions.py from tools/regions/mca-2024.txt: the Ministry of
# Civil Affairs' list of county-level and higher divisions for 2024 (via
# github.com/yescallop/areacodes, CC0 1.0; see tools/regions/README.md). English names of
# existing entries are kept on rebuild, so correct a name here by hand if need be.
#
# Codes are written WITHOUT trailing zero pairs: "14" is Shanxi (140000), "1401" is
# Taiyuan (140100), "140105" is Xiaodian District of Taiyuan. A region's jurisdiction is
# a prefix match on these short codes, so they must never be padded here.
#
# Contents: all 34 provincial-level divisions, every prefecture-level division and every
# county-level division. Pseudo-entries such as "市辖区" (1101, 5001) or
# "省直辖县级行政区划" (4190, 4290, 4690, 6590) are not listed: they name no place, so a
# county directly under its province (419001 Jiyuan) has no prefecture entry above it.
# Only codes listed here are accepted anywhere a region code is entered.
"""


if __name__ == "__main__":
    main()
