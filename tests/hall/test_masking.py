"""Applicant data is masked on every screen (queue_server/hall/masking.py, Ticket.public,
Hall.public_state and Hall.describe)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from queue_server.hall import Applicant, Hall
from queue_server.hall import commands as c
from queue_server.hall.masking import mask_id_number, mask_name, mask_phone

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张*丰"),
        ("欧阳娜娜", "欧**娜"),
        ("王", "*"),
        ("  李四 ", "李*"),
        ("", ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("02112345678", "021****5678"),
        ("123456", "******"),
        ("", ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("110101199003071234", "110***********1234"),
        ("11010119900307123X", "110***********123X"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_mask_id_number(id_number, masked):
    assert mask_id_number(id_number) == masked


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
NAMES = st.text(HAN, min_size=2, max_size=5)
PHONES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
IDS = st.from_regex(r"[1-6][0-9]{16}[0-9X]", fullmatch=True)


@settings(database=None, max_examples=200)
@given(name=NAMES)
def test_a_masked_name_keeps_the_length_and_the_surname_and_hides_the_rest(name):
    m = mask_name(name)
    assert len(m) == len(name) and m[0] == name[0] and m != name
    assert set(m[1 : len(name) - 1 if len(name) > 2 else None]) == {"*"}


@settings(database=None, max_examples=200)
@given(phone=PHONES, id_number=IDS)
def test_masked_phone_and_id_keep_only_their_ends(phone, id_number):
    assert mask_phone(phone) == phone[:3] + "****" + phone[-4:]
    assert mask_id_number(id_number) == id_number[:3] + "*" * 11 + id_number[-4:]


@settings(database=None, max_examples=60, deadline=None)
@given(name=NAMES, phone=PHONES, id_number=IDS)
def test_no_screen_ever_sees_a_phone_an_id_number_or_a_full_name(config, name, phone, id_number):
    hall = Hall(config)
    events = hall.handle(c.OpenWindow(window=1), NOW)
    assume(name not in json.dumps(hall.public_state(NOW), ensure_ascii=False))  # e.g. 测试 in 测试大厅
    applicant = Applicant(name=name, phone=phone, id_number=id_number)
    events += hall.handle(c.IssueTicket(queue="A", applicant=applicant), NOW)
    events += hall.handle(c.CallNext(window=1), NOW)
    events += hall.handle(c.Recall(window=1), NOW)
    t = next(iter(hall.tickets.values()))
    assert (t.applicant_name, t.applicant_phone, t.applicant_id) == (name, phone, id_number)  # stored in full

    public = t.public()
    assert public["applicant"] == mask_name(name)
    screens = [public, hall.public_state(NOW)] + [hall.describe(ev, NOW) for ev in events]
    for screen in screens:
        text = json.dumps(screen, ensure_ascii=False, default=str)
        assert phone not in text and id_number not in text and name not in text
        assert "status_token" not in text
