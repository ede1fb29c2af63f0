"""``[[reasons]]`` and ``[hall] management``: the responsibility catalogue of a hall."""

from __future__ import annotations

from queue_server.config_file import parse_hall_config
from queue_server.hall.config import DEFAULT_REASONS, Party

from config_samples import minimal, problems_of


def test_without_reasons_the_default_catalogue_and_management_apply() -> None:
    config, problems = parse_hall_config(minimal())
    assert not problems and config is not None
    assert config.reasons == DEFAULT_REASONS and config.management == "行政服务中心管委会"


def test_a_hall_names_its_management_and_its_catalogue() -> None:
    data = minimal()
    data["hall"]["management"] = "将乐县行政服务中心管委会"
    data["reasons"] = [
        {"text": "服务态度不好", "party": "management"},
        {"text": "审批太慢", "party": "department"},
    ]
    config, problems = parse_hall_config(data)
    assert not problems and config is not None
    assert config.management == "将乐县行政服务中心管委会"
    assert [(r.text, r.party) for r in config.reasons] == [
        ("服务态度不好", Party.MANAGEMENT),
        ("审批太慢", Party.DEPARTMENT),
    ]


def test_every_bad_reason_is_reported() -> None:
    data = minimal()
    data["hall"]["management"] = " "
    data["reasons"] = [
        {"text": "a", "party": "nobody"},
        {"text": "b", "party": "department"},
        {"text": "b", "party": "management"},
        {"text": "c"},
        {"text": "d", "party": "department", "x": 1},
    ]
    messages = [f"{p.path}: {p.message}" for p in problems_of(data)]
    text = "\n".join(messages)
    assert "management must not be empty" in text
    assert 'unknown party "nobody"' in text
    assert 'reason "b" is listed twice' in text
    assert 'missing required key "party"' in text
    assert 'unknown key "x"' in text
