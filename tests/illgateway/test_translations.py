"""The Chinese catalogue is complete, and the compiled catalogue is the one the source says."""

import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def _unquote(parts):
    return "".join(
        bytes(part[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode()
        for part in parts
    )


def po_entries():
    """(context, msgid, msgid_plural, [msgstr...], flags) for each entry of django.po.

    Entries are separated by blank lines; each keyword's string may continue on the lines that
    follow it (each a quoted string).
    """
    result = []
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        fields, flags, key = {}, "", None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags = line
            elif match := re.match(
                r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line
            ):
                key = match.group(1)
                fields[key] = [match.group(2)]
            elif line.startswith('"') and key:
                fields[key].append(line)
        if "msgid" not in fields:
            continue
        texts = {k: _unquote(v) for k, v in fields.items()}
        strs = [v for k, v in texts.items() if k.startswith("msgstr")]
        result.append(
            (texts.get("msgctxt"), texts["msgid"], texts.get("msgid_plural"), strs, flags)
        )
    return result


def test_every_message_has_a_chinese_translation():
    entries = [e for e in po_entries() if e[1]]
    assert len(entries) > 300
    untranslated = [msgid for _, msgid, _, strs, _ in entries if not all(strs)]
    fuzzy = [msgid for _, msgid, _, _, flags in entries if "fuzzy" in flags]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalogue_matches_the_source():
    with (LOCALE / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    stale = []
    for context, msgid, plural, strs, _ in po_entries():
        if not msgid:
            continue
        if plural:
            got = (
                catalogue.npgettext(context, msgid, plural, 1)
                if context
                else catalogue.ngettext(msgid, plural, 1)
            )
        else:
            got = catalogue.pgettext(context, msgid) if context else catalogue.gettext(msgid)
        if got != strs[0]:
            stale.append(msgid)
    assert stale == [], "run `make messages` (or compile the .po) after editing it"


def test_chinese_labels_are_the_seeds():
    translations = {msgid: strs[0] for ctx, msgid, _, strs, _ in po_entries() if not ctx}
    seed = {
        "Profile": "个人管理",
        "Requests": "申请管理",
        "Submit request": "提交申请",
        "My requests": "申请列表",
        "Account": "帐户管理",
        "Log out": "关闭",
        "Help": "帮助",
        "About": "关于",
        "Legacy data": "旧版系统数据查询",
        "Notice board": "留言板",
        "Submitted": "用户申请尚未处理",
        "In process": "处理中",
        "Awaiting cost approval": "等待读者确认费用",
        "Awaiting payment": "可以提供，待付款",
        "Delivered": "已传递",
        "On loan": "已借出",
        "Returned": "已归还",
        "Unfilled": "无法满足",
        "Cancelled": "已取消",
        "Expired": "已过期",
    }
    assert {k: translations.get(k) for k in seed} == seed
