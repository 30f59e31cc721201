"""What the public reads of a villager's text (deliberation/masking.py, plan §5)."""

from __future__ import annotations

import random

import pytest

from deliberation.masking import id_check_digit, mask, mask_fields, masked_name, valid_id_number

VALID = "11010519491231002X"
WRONG_CHECK = "110105194912310021"


def test_a_valid_id_number_is_masked_to_its_last_four() -> None:
    done = mask(f"我的身份证号{VALID}，请联系")
    assert done.text == "我的身份证号**************002X，请联系"
    assert [(m.kind, m.shown) for m in done.masks] == [("id_number", "**************002X")]
    assert VALID not in done.text
    assert done.flags == ()


def test_a_lower_case_x_counts_and_shows_upper_case() -> None:
    done = mask(f"号码 {VALID.lower()} 结束")
    assert done.text == "号码 **************002X 结束"


def test_a_wrong_check_digit_is_flagged_not_masked() -> None:
    done = mask(f"证号{WRONG_CHECK}")
    assert done.text == f"证号{WRONG_CHECK}"
    assert done.masks == ()
    assert [(f.kind, f.message) for f in done.flags] == [
        ("id_number_invalid", "疑似身份证号，校验位不符")
    ]
    assert (done.flags[0].start, done.flags[0].end) == (2, 20)


def test_full_width_digits_are_found_and_offsets_are_the_originals() -> None:
    full = VALID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    text = f"身份证：{full}；电话：１３８０００００１２３"
    done = mask(text)
    assert done.text == "身份证：**************002X；电话：138****0123"
    by_kind = {m.kind: m for m in done.masks}
    assert text[by_kind["id_number"].start : by_kind["id_number"].end] == full
    assert text[by_kind["mobile"].start : by_kind["mobile"].end] == "１３８０００００１２３"


@pytest.mark.parametrize(
    "written",
    ["13800000123", "+86 138-0000-0123", "86 138 0000 0123", "+8613800000123", "138-0000-0123"],
)
def test_mobile_numbers_in_their_usual_shapes_are_masked(written: str) -> None:
    done = mask(f"联系我{written}谢谢")
    assert done.text == "联系我138****0123谢谢"


def test_a_nineteen_digit_run_is_left_alone() -> None:
    run = "1380000012313800000"
    done = mask(f"账号{run}")
    assert done.text == f"账号{run}"
    assert done.masks == ()


def test_two_numbers_in_one_text_are_both_masked_in_order() -> None:
    done = mask(f"张三 {VALID}，电话13912345678；李四电话 15800001111")
    assert done.text == "张三 **************002X，电话139****5678；李四电话 158****1111"
    assert [m.kind for m in done.masks] == ["id_number", "mobile", "mobile"]


def test_a_landline_is_flagged() -> None:
    done = mask("村委会电话0791-83123456")
    assert done.text == "村委会电话0791-83123456"
    assert [f.kind for f in done.flags] == ["landline"]


def test_the_filers_own_name_becomes_surname_and_mou() -> None:
    done = mask("我是王小明，王小明家门口的路坏了", filer_name="王小明")
    assert done.text == "我是王某，王某家门口的路坏了"
    assert [m.kind for m in done.masks] == ["filer_name", "filer_name"]


@pytest.mark.parametrize(
    ("name", "shown"),
    [("王小明", "王某"), ("欧阳娜娜", "欧阳某"), ("司马光", "司马某"), ("李白", "李某")],
)
def test_compound_surnames_are_kept_whole(name: str, shown: str) -> None:
    assert masked_name(name) == shown


def test_other_names_are_flagged_for_the_office() -> None:
    done = mask("组长张建国一直没有回复", filer_name="王小明")
    assert done.text == "组长张建国一直没有回复"
    names = [("组长张建国一直没有回复"[f.start : f.end], f.kind) for f in done.flags]
    assert ("张建国", "name") in names


def test_title_and_content_together() -> None:
    texts, masks, _flags = mask_fields(
        {"title": "修路（王小明）", "content": "电话13800000123"}, filer_name="王小明"
    )
    assert texts == {"title": "修路（王某）", "content": "电话138****0123"}
    assert sorted((m.field, m.kind) for m in masks) == [
        ("content", "mobile"),
        ("title", "filer_name"),
    ]


def test_our_check_digit_agrees_with_python_stdnum() -> None:
    """Ours against ``stdnum.cn.ric`` on random bodies: its check digit for any area,
    and its whole validation where it knows the area (its place list is partial)."""
    ric = pytest.importorskip("stdnum.cn.ric")
    rng = random.Random(27)
    for _ in range(2000):
        area = f"{rng.randint(11, 65)}{rng.randint(0, 9999):04d}"
        birth = f"{rng.randint(1930, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        body = f"{area}{birth}{rng.randint(0, 999):03d}"
        assert id_check_digit(body) == ric.calc_check_digit(body + "?")  # it drops the last
        known = "110105" + body[6:]
        right = known + id_check_digit(known)
        wrong = known + rng.choice([c for c in "0123456789X" if c != right[-1]])
        assert valid_id_number(right) is ric.is_valid(right) is True
        assert valid_id_number(wrong) is ric.is_valid(wrong) is False
        assert mask(f"号{right}").text == "号" + "*" * 14 + right[-4:]
        assert mask(f"号{wrong}").text == f"号{wrong}"
