"""``hallops simulate`` pinned: the printed statistics and the database written are those of the
code before the simulator was made faster (issue 15), for the same seeds.

The expected values below were taken from the simulator as it was at commit 97f4ba5 (main,
before any speed work), by running this module (``python tests/sim/test_sim_pinned.py``
prints the current values). They are not to be regenerated to make a change pass: a change
of the model's behaviour is a change of these figures and must say so.

Re-pinned since, at two merges that changed the model on purpose (never the speed work):
issue 14 (responsibility by content: the responsible party and co-ordinator in
``rectification_opened`` events and rectification rows; only those digests changed), then
issues 12 and 16 together (the demo hall's 集成服务 matters, bundles, 帮办代办 and 代办员 in the
simulator; same-day back-office work that was lost now runs; the stored hall clock): more
events and cases decided, the queue figures within a few tenths of a minute.

Pinned per run: the report ``hallops simulate`` prints (without the elapsed time and the
events/s, which are measurements) and a SHA-256 of every table of the database written, rows
in a fixed order, all columns (the events log with its ids). The runs cover a plain Monday
and Tuesday with cases and ratings, a database continued for a day, a Thursday to Monday
over a weekend (Saturday 5+X service, Sunday closed) with another seed, and a what-if plan.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from queue_server.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "data" / "halls" / "demo.toml")
PLAN = str(ROOT / "data" / "plans" / "peak-extra-a.toml")

TABLES = (
    "events",
    "tickets",
    "windows",
    "ticket_numbers",
    "service_times",
    "meta",
    "device_tokens",
    "cases",
    "case_numbers",
    "ratings",
    "rectifications",
    "sqlite_sequence",
)

_ELAPSED = re.compile(r", [0-9.]+ s \([0-9,]+ events/s\)")


def report(out: str, tmp: Path) -> str:
    """The printed report without the measured time and with the temporary directory as <tmp>."""
    return _ELAPSED.sub("", out).replace(str(tmp), "<tmp>").strip()


def table_digests(db: Path) -> dict[str, str]:
    """SHA-256 per table of every row and column (the events in id order, others sorted)."""
    con = sqlite3.connect(db)
    try:
        digests = {}
        for table in TABLES:
            where = " WHERE key != 'hall_clock'" if table == "meta" else ""  # it holds the wall time written
            rows = [repr(tuple(r)) for r in con.execute(f"SELECT * FROM {table}{where} ORDER BY rowid")]
            if table != "events":
                rows.sort()
            digests[table] = f"{len(rows)}:" + hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digests
    finally:
        con.close()


def simulate(argv: list[str]) -> str:
    """Run ``hallops simulate`` in this process; its standard output."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["simulate", "--config", DEMO, "--no-progress", *argv])
    assert code == 0, buf.getvalue()
    return buf.getvalue()


# ---------------------------------------------------------------------- the pinned values

EXPECTED: dict[str, dict[str, object]] = {
    "continued": {
        "report": "config: 2026-11-03 … 2026-11-03, 1 days (1 working), 4865 events in 479 "
        "transactions → <tmp>/continued.db\n"
        "queue                     issued  served  no-show  mean min  p90 min  "
        "max min  max waiting\n"
        "A 无差别综合受理             125     117     5.6%       3.8      9.9     "
        "20.9           11\n"
        "B 税务                        30      30     3.3%       6.9     17.5     "
        "29.6            3\n"
        "C 公安(出入境·治安·交警)      72      69     4.2%      10.3     26.9     "
        "34.3            7\n"
        "D 社保                       109     103     6.4%       3.0      7.8     "
        "12.9            4\n"
        "E 医保                        48      45     6.2%       9.1     20.9     "
        "32.1            4\n"
        "F 不动产登记                  40      40     2.5%       5.7     16.7     "
        "29.6            4\n"
        "G 市政公用(水电气广电)        50      46     8.0%      10.0     24.5     "
        "33.5            5\n"
        "H 婚姻登记                    14      13     7.1%      16.3     38.9     "
        "71.8            3\n"
        "J 商事登记                    11      11     0.0%       5.5     18.4     "
        "22.1            1\n"
        "K 办不成事反映                33      31     6.1%      16.5     40.9     "
        "72.6            5\n"
        "L 帮办代办                    28      26    10.7%      23.8     53.9     "
        "65.3            6\n"
        "M 一件事一次办·跨省通办       16      16     0.0%      11.1     38.3     "
        "45.5            3\n"
        "P 出件                        99      94     5.1%       4.2     14.3     "
        "20.5            8\n"
        "Z 咨询导办                   113     107     5.3%       4.9     11.4     "
        "18.7            6\n"
        "all                          788     748     5.5%       7.1     19.0     "
        "72.6           11\n"
        "cases (办件): 455 accepted, 30 补正 notices, 5 不予受理, 196 decided, 187 "
        "delivered (490 created at the windows); ratings: 431, 差评 12 (2.8%)",
        "tables": {
            "case_numbers": "2:d83b874b077df288237bf003e2482de98d4a1fd2738a92b5ba5da3a39baa2743",
            "cases": "1244:b82851511867f303af5f758be59c5e0f97456adff6f5a7db2d69e41628d404d6",
            "device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "events": "10848:e3b3467e3311be4a51621ec25cc735124cf14c91293e552947841a8dc0963038",
            "meta": "1:c3ccb4851b88d3d0a38397b3fec6655318aaa10ea3a31ae02420f07de13d0566",
            "ratings": "971:98089a8bcc44764848897398525679fc999a85be96a29890de9b400fe7ac3265",
            "rectifications": "25:d7cea7b4ef7b9fe2d242e4f2cdc742ce25cc7e4a56ecf232c0eb4625f3f0a0f8",
            "service_times": "14:c6082b176b3236ceecdc1803556790dd9da25a72b441508ad27d53686fe840e0",
            "sqlite_sequence": "1:c074c7c4091b36dc013096f6aab80fed0652baebae06fec75f5a628ad82914da",
            "ticket_numbers": "28:a5a5c61498bc3631e6d11bec3f27a003400f467aeda195391fc529e7a1274ed1",
            "tickets": "1732:470de73eab3d0c48dba5aa58e9306fcc94096044e464e4fb99aeb701c680b2ca",
            "windows": "20:4e7e14f6b49f9355460fb5064ff783bcde302af795fd74f09ea10fec72521682",
        },
    },
    "monday_tuesday": {
        "report": "config: 2026-11-02 … 2026-11-03, 2 days (2 working), 11741 events "
        "in 1066 transactions → <tmp>/mon-tue.db\n"
        "queue                     issued  served  no-show  mean min  p90 "
        "min  max min  max waiting\n"
        "A 无差别综合受理             321     298     5.0%      18.4     50.4     "
        "58.8           32\n"
        "B 税务                        62      61     1.6%      10.8     "
        "29.4     58.3            5\n"
        "C 公安(出入境·治安·交警)     137     131     4.4%       4.4     13.5     "
        "23.6            6\n"
        "D 社保                       193     184     7.8%       8.7     "
        "25.1     34.9           10\n"
        "E 医保                       132     127     6.8%      40.0    "
        "102.9    134.4           19\n"
        "F 不动产登记                  95      93     4.2%      23.1     62.1    "
        "122.8           10\n"
        "G 市政公用(水电气广电)       138     136     1.4%      38.3     92.6    "
        "121.8           15\n"
        "H 婚姻登记                    55      53     5.5%      30.1     83.3    "
        "133.3            8\n"
        "J 商事登记                    41      40     2.4%      18.3     "
        "57.4     90.7            5\n"
        "K 办不成事反映                58      55     5.2%      34.3    111.8    "
        "134.4           10\n"
        "L 帮办代办                    59      53    10.2%      15.7     "
        "47.8     63.1            6\n"
        "M 一件事一次办·跨省通办       45      43     4.4%      22.2     69.8     "
        "92.9            5\n"
        "P 出件                       264     255     3.8%      25.3     "
        "55.0     67.3           22\n"
        "Z 咨询导办                   228     219     4.8%      14.9     "
        "44.8     60.6           20\n"
        "all                         1828    1748     4.9%      20.8     "
        "54.4    134.4           32\n"
        "cases (办件): 1067 accepted, 64 补正 notices, 35 不予受理, 478 decided, 436 "
        "delivered (1166 created at the windows); ratings: 1062, 差评 31 "
        "(2.9%)",
        "tables": {
            "case_numbers": "2:a2cd841bb22be044ef653c26e1ef858025d960656fa8ff496fef9e2d0d09e2a9",
            "cases": "1322:693e132cb2bf8d709872c8c74bff86744afa737003e880ffa78c4590cc25a5ce",
            "device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "events": "11741:a64987777eaaec43587a68c4c894b867e6c4838437b019fa8dc14c42c50fed5c",
            "meta": "1:c3ccb4851b88d3d0a38397b3fec6655318aaa10ea3a31ae02420f07de13d0566",
            "ratings": "1062:afc388684d987c21e324f68b827c4bbe6f5bed43f950894ef536fcb505779614",
            "rectifications": "31:33c46a323bc764cc410b99cfdb7889dfb17096c9fedfb9afdb46a182c84a0c7e",
            "service_times": "14:888e99cf9fc23ee0d4a7ce90e90770d6252115630a8060cb0751d73a1685ac66",
            "sqlite_sequence": "1:5361ef3b4dc4c91055166d778418713971197818618e9475d23df6eb70e8e163",
            "ticket_numbers": "28:a68024d129b6e64758c6623c750cab715b07e82b550a63c138eff58bb79c4ce2",
            "tickets": "1828:89e5d4291e55559d76bfd57dc7d40c89c29cd43c9068e4e4b3dff7d47134c145",
            "windows": "20:c3d4d0e20b1ea86cd27f7f840b3866ff196f8ad40bf0f7034f7954a32d888955",
        },
    },
    "over_a_weekend": {
        "report": "config: 2026-11-05 … 2026-11-09, 5 days (3 working), 16431 events "
        "in 1658 transactions → <tmp>/weekend.db\n"
        "queue                     issued  served  no-show  mean min  p90 "
        "min  max min  max waiting\n"
        "A 无差别综合受理             415     386     4.6%      10.2     39.1     "
        "59.9           28\n"
        "B 税务                        96      91     8.3%      28.8     "
        "98.3    124.7           14\n"
        "C 公安(出入境·治安·交警)     206     203     2.9%       5.8     17.5     "
        "31.1            7\n"
        "D 社保                       292     284     4.8%      16.6     "
        "36.1     54.4           15\n"
        "E 医保                       167     162     4.8%      20.8     "
        "50.9     91.0           14\n"
        "F 不动产登记                 136     128     5.9%      10.5     30.8     "
        "49.0            6\n"
        "G 市政公用(水电气广电)       194     188     5.7%      26.3     75.2     "
        "99.7           16\n"
        "H 婚姻登记                    58      58     0.0%      17.7     "
        "51.2     97.3            6\n"
        "J 商事登记                    51      49     3.9%      19.1     56.5    "
        "117.7            5\n"
        "K 办不成事反映                88      86     2.3%      13.6     39.9     "
        "62.1            6\n"
        "L 帮办代办                    84      82     3.6%       5.9     "
        "18.3     36.1            3\n"
        "M 一件事一次办·跨省通办       62      58     6.5%      50.9    109.4    "
        "128.8            7\n"
        "P 出件                       341     327     4.7%       9.8     "
        "28.2     62.9           17\n"
        "Z 咨询导办                   333     317     5.7%       5.2     "
        "14.3     32.3           10\n"
        "all                         2523    2419     4.8%      13.9     "
        "40.5    128.8           28\n"
        "cases (办件): 1468 accepted, 92 补正 notices, 45 不予受理, 732 decided, 614 "
        "delivered (1605 created at the windows); ratings: 1453, 差评 36 "
        "(2.5%)",
        "tables": {
            "case_numbers": "4:feff8de498284732222b35875fda28866506b66e079ff2e3d968e0849a0c7cc3",
            "cases": "1827:761b921fa9045a357dd37dc2fda50a64d2610b7d45908df3f8492ffeb503c91d",
            "device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "events": "16431:a4bebfbb9db14300237efe30e07ed7b36be57dcb49a975df8f24943ef373bde6",
            "meta": "1:9f7a43809d2af068326688da9c424ef8de1f9318a78452d43e30336e549455b1",
            "ratings": "1453:860c93e028f0565b6ce8a68936d925f30f57818cfdc89acb7f9cb7a6d9d2cd38",
            "rectifications": "36:9d1628bdaba8bf73f4ad714a67948c97e4a0c17f521473f8a8caffe09bdd0296",
            "service_times": "14:f19d4e01e763870e005cd954815008a135e718a327fc08fbd9c71fa92540818b",
            "sqlite_sequence": "1:31fc440b4c15fc4a59bd9f05cb3cba5a4342a40575a66a1c68d8b025a669ee6b",
            "ticket_numbers": "47:c051e3c22648e554f2c6b4d1c572afb3d5646ef618fcbba6938f8e65047f5a08",
            "tickets": "2523:96ff6a9009582254027f6c1dfa85de456a9737abe1a3af5584699bf9de18ecf7",
            "windows": "20:1ce9f839397148d04eed672ad56b98681506a7c1b7d0104d30b6123795cbaf9c",
        },
    },
    "plan": {
        "report": "config: 2026-11-10 … 2026-11-10, 1 days (1 working), 4781 events in 469 "
        "transactions → <tmp>/config.db\n"
        "早高峰加开两个无差别综合窗口: 2026-11-10 … 2026-11-10, 1 days (1 working), 4787 events in "
        "469 transactions → <tmp>/plan.db\n"
        "\n"
        "waits in minutes, from issue to first call\n"
        "queue                     served config  served plan  mean config  mean plan  "
        "p90 config  p90 plan  max waiting config  max waiting plan\n"
        "A 无差别综合受理                    134          134          7.7        5.7        "
        "21.6      20.3                  14                13\n"
        "B 税务                               19           19          2.9        "
        "2.9         7.9       7.9                   1                 1\n"
        "C 公安(出入境·治安·交警)             53           53          2.5        2.6         "
        "8.6       8.7                   3                 3\n"
        "D 社保                               91           91          7.2        "
        "7.2        20.6      20.6                   9                 9\n"
        "E 医保                               50           50         16.3       "
        "16.3        27.8      27.8                   8                 8\n"
        "F 不动产登记                         32           32          2.9        "
        "2.9        10.0      10.0                   4                 4\n"
        "G 市政公用(水电气广电)               51           51         13.1       13.1        "
        "37.8      37.8                   8                 8\n"
        "H 婚姻登记                           19           19         16.6       "
        "16.6        45.0      45.0                   4                 4\n"
        "J 商事登记                           15           15          7.5        "
        "7.5        21.4      21.4                   2                 2\n"
        "K 办不成事反映                       33           33         31.9       31.9        "
        "90.4      90.4                   7                 7\n"
        "L 帮办代办                           29           29          8.6       "
        "12.2        24.5      26.1                   3                 4\n"
        "M 一件事一次办·跨省通办              22           22         32.6       32.6        "
        "61.9      61.9                   6                 6\n"
        "P 出件                               94           94          7.8        "
        "7.8        19.8      19.8                   9                 9\n"
        "Z 咨询导办                          107          107          7.8        "
        "7.8        17.4      17.4                   8                 8\n"
        "all                                 749          749          9.9        "
        "9.7        23.3      23.0                  14                13",
        "tables": {
            "config.case_numbers": "1:613574c930c9e358967d1a1dfcf25f1915564352fa54c76aaaf319a9350c773e",
            "config.cases": "578:30fb94fcb07a0d602e801e9f3a36b304f23001c66f425f2109c9af3d1c014193",
            "config.device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "config.events": "4781:2a2ac342653773491f421ff9069f03d484df1d35740190d0ba55ead6c1f427ce",
            "config.meta": "1:407b4a41469e7051d7992460ba8c645f891ed3d1e232b6d305aa2be92f04f7ff",
            "config.ratings": "423:02de6e1f227aac80e00ef3f5db370fc7b8f340b2b75f4af4e768770230107edb",
            "config.rectifications": "15:a71366b897c0b07211014fac6493a07269d8ce7a65616758d81072d1ebafeec9",
            "config.service_times": "14:a7f833f5d3659aabc33e223087af745b8d8880d86a94c114535aece480fb2308",
            "config.sqlite_sequence": "1:f911546f71df7572e67504ff2a00c908f5dfb94127faf0dbbb4d22a3de28cea1",
            "config.ticket_numbers": "14:8131ec11d745ae37bb0d70fb73c71cf2df76b68a4713df52fd4e5dea7c69a831",
            "config.tickets": "771:62d7dfadf529c9b02fdb16f3e1d70b46c874dc688a79b9c184e3d5de1cf6a276",
            "config.windows": "20:4933a52480a17ad5691a75718711d25fbcf7da9b074b44e0f75a6d34aba6a6c2",
            "plan.case_numbers": "1:613574c930c9e358967d1a1dfcf25f1915564352fa54c76aaaf319a9350c773e",
            "plan.cases": "578:a1458bf709a229239b7f0dc2936a0e8f612964560c08a26bf5166afa63c0f010",
            "plan.device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "plan.events": "4787:32e4c3bb954c073660e7b9fb61c4717159dd5d9819b66fc7ca72415f59c27636",
            "plan.meta": "1:407b4a41469e7051d7992460ba8c645f891ed3d1e232b6d305aa2be92f04f7ff",
            "plan.ratings": "423:5adb1deedbe1bde4f4ca327eece7200285173e0947f7054d0e617af85c2ebdfa",
            "plan.rectifications": "15:93e51f2931a0c2a4f0c76ba805969caa9b0566fa1d16c1bae289dfbfe2ccbb89",
            "plan.service_times": "14:95675c0052b2b82b04ac8111cbdc41b68a76b2bc71fe7e86a852d842d8bc0336",
            "plan.sqlite_sequence": "1:bca3ec4a107da7548fddf9912c1ee5dd6c9b700a8cf3ea9746625b8b49e6535e",
            "plan.ticket_numbers": "14:8131ec11d745ae37bb0d70fb73c71cf2df76b68a4713df52fd4e5dea7c69a831",
            "plan.tickets": "771:b35ecd62dc138dd79e2238366e1eb6c82ab18b8cf554358e7be2d45a8fbbdf93",
            "plan.windows": "22:1174cd389ef89414e3bf214048dc10fbd7382f26a29ad60af06dc3aec37205d8",
        },
    },
}


def run_monday_tuesday(tmp: Path) -> tuple[str, dict[str, str]]:
    db = tmp / "mon-tue.db"
    out = simulate(["--db", str(db), "--days", "2", "--seed", "1", "--start", "2026-11-02"])
    return report(out, tmp), table_digests(db)


def run_continued(tmp: Path) -> tuple[str, dict[str, str]]:
    db = tmp / "continued.db"
    simulate(["--db", str(db), "--days", "1", "--seed", "3", "--start", "2026-11-02"])
    out = simulate(["--db", str(db), "--days", "1", "--seed", "3"])  # continues on 11-03
    return report(out, tmp), table_digests(db)


def run_over_a_weekend(tmp: Path) -> tuple[str, dict[str, str]]:
    db = tmp / "weekend.db"
    out = simulate(["--db", str(db), "--days", "3", "--seed", "7", "--start", "2026-11-05"])
    return report(out, tmp), table_digests(db)


def run_plan(tmp: Path) -> tuple[str, dict[str, str]]:
    db, plan_db = tmp / "config.db", tmp / "plan.db"
    out = simulate(
        [
            "--db",
            str(db),
            "--plan-db",
            str(plan_db),
            "--plan",
            PLAN,
            "--days",
            "1",
            "--seed",
            "5",
            "--start",
            "2026-11-10",
        ]
    )
    digests = {f"config.{k}": v for k, v in table_digests(db).items()}
    digests.update({f"plan.{k}": v for k, v in table_digests(plan_db).items()})
    return report(out, tmp), digests


RUNS = {
    "monday_tuesday": run_monday_tuesday,
    "continued": run_continued,
    "over_a_weekend": run_over_a_weekend,
    "plan": run_plan,
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_simulate_prints_and_writes_what_it_did_before(name: str, tmp_path: Path) -> None:
    printed, digests = RUNS[name](tmp_path)
    expected = EXPECTED[name]
    assert printed == expected["report"]
    assert digests == expected["tables"]


def test_larger_batches_write_the_same_database(tmp_path: Path) -> None:
    """``--batch-minutes 30``: fewer, larger transactions; the same statistics, events and rows."""
    db = tmp_path / "mon-tue.db"
    out = simulate(
        ["--db", str(db), "--days", "2", "--seed", "1", "--start", "2026-11-02", "--batch-minutes", "30"]
    )
    expected = EXPECTED["monday_tuesday"]
    printed = report(out, tmp_path).replace(str(db), "<tmp>/mon-tue.db")
    head, _, rest = printed.partition("\n")
    want_head, _, want_rest = str(expected["report"]).partition("\n")
    assert rest == want_rest
    commits = int(re.search(r"events in ([0-9]+) transactions", head).group(1))  # type: ignore[union-attr]
    assert commits < 1059 // 10  # 1,059 transactions with one a minute
    assert re.sub(r"in [0-9]+ transactions", "", head) == re.sub(r"in [0-9]+ transactions", "", want_head)
    assert table_digests(db) == expected["tables"]


if __name__ == "__main__":  # print the current values, for a human to compare
    import pprint
    import tempfile

    names = sys.argv[1:] or sorted(RUNS)
    for name in names:
        with tempfile.TemporaryDirectory() as d:
            printed, digests = RUNS[name](Path(d))
        print(f"{name!r}: ", end="")
        pprint.pprint({"report": printed, "tables": digests}, width=110, sort_dicts=True)
        print(",", flush=True)
