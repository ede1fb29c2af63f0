"""One table of plain Chinese error texts (displays/static/js/messages-zh.js) for every error
code of docs/protocol.md; citizens never see the server's English message."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"


def protocol_error_codes() -> list[str]:
    text = PROTOCOL.read_text(encoding="utf-8")
    table = text.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    codes = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)
    assert len(codes) > 30, codes
    return codes


def test_every_protocol_error_code_has_plain_chinese(hall, new_page):
    page = new_page(800, 600)
    page.goto(hall.base + "/kiosk")
    codes = protocol_error_codes() + ["disconnected", "timeout"]
    missing = page.evaluate("codes => codes.filter(c => !HallMessages.has(c))", codes)
    assert not missing, f"no Chinese text for {missing}"
    for context in (None, "kiosk", "status", "pad"):
        texts = page.evaluate(
            "([codes, ctx]) => codes.map(c => [c, HallMessages.text({code: c, message: 'K is not open now'}, ctx)])",
            [codes, context],
        )
        for code, text in texts:
            assert re.search(r"[\u4e00-\u9fff]", text), (code, context, text)
            assert not re.search(r"[A-Za-z]{2,}", text), (code, context, text)  # never the English message
    # A code the table does not know gets the generic Chinese text, not the server's words.
    assert page.evaluate(
        "HallMessages.text({code: 'brand_new_code', message: 'Something broke'})"
    ) == page.evaluate("HallMessages.FALLBACK")
    # The shared client helper is the same table.
    assert (
        page.evaluate(
            "HallClient.util.errorText({code: 'queue_closed', message: 'K is not open now'}, 'kiosk')"
        )
        == "该业务当前不在办理时间,暂停取号"
    )
    # Staff screens keep the server's detail after the Chinese text.
    assert (
        page.evaluate(
            "HallClient.util.staffErrorText({code: 'illegal_transition', message: 'cannot recall A042: it is done'})"
        )
        == "当前状态不允许此操作(cannot recall A042: it is done)"
    )


def test_every_page_loads_the_table_before_the_client():
    for page in sorted((ROOT / "displays").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        if "hallclient.js" not in html:
            continue
        assert html.index("/static/js/messages-zh.js") < html.index("/static/js/hallclient.js"), page.name
