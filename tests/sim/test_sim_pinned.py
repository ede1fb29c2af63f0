"""``hallops simulate`` pinned: the printed statistics and the database written are those of the
code before the simulator was made faster (issue 15), for the same seeds.

The expected values below were taken from the simulator as it was at commit 97f4ba5 (main,
before any speed work), by running this module (``python tests/sim/test_sim_pinned.py``
prints the current values). They are not to be regenerated to make a change pass: a change
of the model's behaviour is a change of these figures and must say so.

Re-pinned once since, at the merge of issue 14 (responsibility by content), which adds the
responsible party and the co-ordinator to ``rectification_opened`` events and rectification
rows: only the ``events`` and ``rectifications`` digests changed; every report and every other
table stayed the same (checked when re-pinning).

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
            rows = [repr(tuple(r)) for r in con.execute(f"SELECT * FROM {table} ORDER BY rowid")]
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
        "report": "config: 2026-11-03 … 2026-11-03, 1 days (1 working), 4697 events in 474 "
        "transactions → <tmp>/continued.db\n"
        "queue                     issued  served  no-show  mean min  p90 min  max "
        "min  max waiting\n"
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
        "cases (办件): 454 accepted, 31 补正 notices, 5 不予受理, 208 decided, 208 delivered "
        "(490 created at the windows); ratings: 431, 差评 12 (2.8%)",
        "tables": {
            "case_numbers": "2:71dcefb2bef8487ffd0c673c2de7f44e994c38c0dea5a2498f17ba127dca241e",
            "cases": "1092:a0f58a6229ead14e3b0cc51510c9f29f964ad63ff851da9a42c2f3c7e524fc18",
            "device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "events": "10379:8cea5ef85d622760182d26e04f005f11501ad50293529638c33bdca94014bfed",
            "meta": "1:c3ccb4851b88d3d0a38397b3fec6655318aaa10ea3a31ae02420f07de13d0566",
            "ratings": "971:657d620f1c7c101230b2b69e0f4de225a19f49a6a95ee02739db13c47afad7a9",
            "rectifications": "25:0d8666299b5fb74abc52b0e896708317b84187c5ca4f5c93b3d314d82a329e57",
            "service_times": "14:c6082b176b3236ceecdc1803556790dd9da25a72b441508ad27d53686fe840e0",
            "sqlite_sequence": "1:3e5e2a2e7860cd7627c3549ffe7df14c244d6bd7a3a28cc3300425b5edc6ff17",
            "ticket_numbers": "28:a5a5c61498bc3631e6d11bec3f27a003400f467aeda195391fc529e7a1274ed1",
            "tickets": "1732:470de73eab3d0c48dba5aa58e9306fcc94096044e464e4fb99aeb701c680b2ca",
            "windows": "20:4e7e14f6b49f9355460fb5064ff783bcde302af795fd74f09ea10fec72521682",
        },
    },
    "monday_tuesday": {
        "report": "config: 2026-11-02 … 2026-11-03, 2 days (2 working), 11220 events in "
        "1059 transactions → <tmp>/mon-tue.db\n"
        "queue                     issued  served  no-show  mean min  p90 min  "
        "max min  max waiting\n"
        "A 无差别综合受理             321     298     5.0%      18.8     50.4     "
        "58.8           32\n"
        "B 税务                        62      61     1.6%      10.8     29.4     "
        "58.3            5\n"
        "C 公安(出入境·治安·交警)     137     131     4.4%       4.4     13.5     "
        "23.6            6\n"
        "D 社保                       193     185     7.3%       8.6     25.1     "
        "34.9           10\n"
        "E 医保                       132     127     6.8%      40.0    102.9    "
        "134.4           19\n"
        "F 不动产登记                  95      93     4.2%      23.1     62.1    "
        "122.8           10\n"
        "G 市政公用(水电气广电)       138     136     1.4%      38.3     92.6    "
        "121.8           15\n"
        "H 婚姻登记                    55      53     5.5%      30.1     83.3    "
        "133.3            8\n"
        "J 商事登记                    41      40     2.4%      18.3     57.4     "
        "90.7            5\n"
        "K 办不成事反映                58      55     5.2%      34.3    111.8    "
        "134.4           10\n"
        "L 帮办代办                    59      53    10.2%      15.5     47.8     "
        "63.1            6\n"
        "M 一件事一次办·跨省通办       45      43     4.4%      22.2     69.8     "
        "92.9            5\n"
        "P 出件                       264     255     3.8%      25.3     55.0     "
        "67.3           22\n"
        "Z 咨询导办                   228     219     4.8%      14.9     44.8     "
        "60.6           20\n"
        "all                         1828    1749     4.8%      20.8     54.4    "
        "134.4           32\n"
        "cases (办件): 1066 accepted, 71 补正 notices, 30 不予受理, 475 decided, 475 "
        "delivered (1167 created at the windows); ratings: 1064, 差评 32 (3.0%)",
        "tables": {
            "case_numbers": "2:2a0c7b2f2c22009bd463bc4924853343d0f7f9443c18e3679a874f2e1b6ef1f8",
            "cases": "1164:506e490e06b3f60f585e252357783d68a9f06934f61b28192e3e4d9086cf1a5d",
            "device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "events": "11220:6b549d6adf8ef35d63241391a6a1d5cff299a9768d41ad6418de56a1d8047116",
            "meta": "1:c3ccb4851b88d3d0a38397b3fec6655318aaa10ea3a31ae02420f07de13d0566",
            "ratings": "1064:2e2919345d52d85ca3b3d5e083071fec6c104df1f1c7b9d5f2c929e66ce3426a",
            "rectifications": "32:c87fa03ddb9fd091dce9a6b50474333d7d9b9b958ddd10d5f65e15c12c1550f0",
            "service_times": "14:bf501618e963d6483bf1136600141772730c109a0daf93cfc99eb13c8cc4294a",
            "sqlite_sequence": "1:da733681db71bae12f7757d14e31fede48bfafe57df57ce998ac6bc9a064bf03",
            "ticket_numbers": "28:a68024d129b6e64758c6623c750cab715b07e82b550a63c138eff58bb79c4ce2",
            "tickets": "1828:41b7a843d32d0ec8c24269a3031deed98e1a2202d1674f15ac004a36bc000c85",
            "windows": "20:53b7321ef5f2155201d2f8a07e4b344ed617af718bbe1f8f60b21ba1ac6cd032",
        },
    },
    "over_a_weekend": {
        "report": "config: 2026-11-05 … 2026-11-09, 5 days (3 working), 15521 events in "
        "1642 transactions → <tmp>/weekend.db\n"
        "queue                     issued  served  no-show  mean min  p90 min  "
        "max min  max waiting\n"
        "A 无差别综合受理             415     385     4.8%      10.4     38.0     "
        "59.2           28\n"
        "B 税务                        96      91     8.3%      28.8     98.3    "
        "124.7           14\n"
        "C 公安(出入境·治安·交警)     206     203     2.9%       5.9     18.7     "
        "31.1            7\n"
        "D 社保                       292     284     4.8%      16.5     36.1     "
        "54.4           15\n"
        "E 医保                       167     162     4.8%      21.1     50.9     "
        "91.0           14\n"
        "F 不动产登记                 136     128     5.9%      10.5     30.8     "
        "49.0            6\n"
        "G 市政公用(水电气广电)       194     189     5.2%      26.2     75.2     "
        "99.7           16\n"
        "H 婚姻登记                    58      58     0.0%      17.7     51.2     "
        "97.3            6\n"
        "J 商事登记                    51      49     3.9%      18.9     56.5    "
        "117.7            5\n"
        "K 办不成事反映                88      86     2.3%      13.6     39.9     "
        "62.1            6\n"
        "L 帮办代办                    84      82     3.6%       5.3     16.1     "
        "28.3            3\n"
        "M 一件事一次办·跨省通办       62      58     6.5%      50.9    109.4    "
        "128.8            7\n"
        "P 出件                       341     327     4.7%       9.8     28.2     "
        "62.9           17\n"
        "Z 咨询导办                   333     317     5.7%       5.2     14.3     "
        "32.3           10\n"
        "all                         2523    2419     4.8%      13.9     40.5    "
        "128.8           28\n"
        "cases (办件): 1464 accepted, 97 补正 notices, 44 不予受理, 661 decided, 645 "
        "delivered (1605 created at the windows); ratings: 1449, 差评 36 (2.5%)",
        "tables": {
            "case_numbers": "4:2929a6ec0355a2622f494920d56d18ca3dd80fa7b2d16c4767a9cb5c85aae8d9",
            "cases": "1591:38b6a40b134862bf9b5f3237aabcdb807c3b24f466f93f40b2569f64fceaeb57",
            "device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "events": "15521:03dd3f2c46b0b64ce8d017c7ed3520d075bef37d955e613d5a8296df0fe348a5",
            "meta": "1:9f7a43809d2af068326688da9c424ef8de1f9318a78452d43e30336e549455b1",
            "ratings": "1449:2895ddc6886e710c060eba683a8d54d34d72400ff72bf927d2957d169c64f6d3",
            "rectifications": "36:0581abab7859d3fc9fa4abfe390955b92eaa9e99e9055e7339108fe8bce8df21",
            "service_times": "14:29ee5cc995cf5462ae85631adeb8a277de5d12b178bf78b5885f231ae2cb7019",
            "sqlite_sequence": "1:f89b491b5808c71dda57529279854a0c63381763b135efe07b66d33f93043b98",
            "ticket_numbers": "47:c051e3c22648e554f2c6b4d1c572afb3d5646ef618fcbba6938f8e65047f5a08",
            "tickets": "2523:8204a93aeda428f482af0a5451b52ffc6a1aa92c0de434723e634337a9e26a6b",
            "windows": "20:70f93020005a8c39468a75813efe906055e78a9f6840c4866998bfb990159cad",
        },
    },
    "plan": {
        "report": "config: 2026-11-10 … 2026-11-10, 1 days (1 working), 4578 events in 467 "
        "transactions → <tmp>/config.db\n"
        "早高峰加开两个无差别综合窗口: 2026-11-10 … 2026-11-10, 1 days (1 working), 4584 events in 468 "
        "transactions → <tmp>/plan.db\n"
        "\n"
        "waits in minutes, from issue to first call\n"
        "queue                     served config  served plan  mean config  mean plan  p90 "
        "config  p90 plan  max waiting config  max waiting plan\n"
        "A 无差别综合受理                    134          134          7.7        5.7        "
        "21.6      20.3                  14                13\n"
        "B 税务                               19           19          2.9        2.9         "
        "7.9       7.9                   1                 1\n"
        "C 公安(出入境·治安·交警)             53           53          2.5        2.6         "
        "8.6       8.7                   3                 3\n"
        "D 社保                               91           91          7.2        7.2        "
        "20.6      20.6                   9                 9\n"
        "E 医保                               50           50         16.3       16.3        "
        "27.8      27.8                   8                 8\n"
        "F 不动产登记                         32           32          2.9        2.9        "
        "10.0      10.0                   4                 4\n"
        "G 市政公用(水电气广电)               51           51         13.1       13.1        "
        "37.8      37.8                   8                 8\n"
        "H 婚姻登记                           19           19         16.6       16.6        "
        "45.0      45.0                   4                 4\n"
        "J 商事登记                           15           15          7.5        7.5        "
        "21.4      21.4                   2                 2\n"
        "K 办不成事反映                       33           33         31.9       31.9        "
        "90.4      90.4                   7                 7\n"
        "L 帮办代办                           29           29          8.6       12.2        "
        "24.5      26.1                   3                 4\n"
        "M 一件事一次办·跨省通办              22           22         32.6       32.6        "
        "61.9      61.9                   6                 6\n"
        "P 出件                               94           94          7.8        7.8        "
        "19.8      19.8                   9                 9\n"
        "Z 咨询导办                          107          107          7.8        7.8        "
        "17.4      17.4                   8                 8\n"
        "all                                 749          749          9.9        "
        "9.7        23.3      23.0                  14                13",
        "tables": {
            "config.case_numbers": "1:368a1f0f616ca6ab82fe70b86d25273c3a6c7a0ddb86f23d6acd512e4a3d2f21",
            "config.cases": "486:34c25aad84a3b484751976cc2c0914e3649475befe15082982576d1efd0dd2c5",
            "config.device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "config.events": "4578:1ff893c65627769ead0364139707d4c3aa773f236d1655984ff012a4d4515a0d",
            "config.meta": "1:407b4a41469e7051d7992460ba8c645f891ed3d1e232b6d305aa2be92f04f7ff",
            "config.ratings": "423:4622392e74427e0999ec55d1629919c448ce1086d1bc0a6fde8f46c74ed0f07d",
            "config.rectifications": "15:257c66c3149e9067f38605a1fb90e94a245f5146a17796bc5d3e0cebd0751b86",
            "config.service_times": "14:a7f833f5d3659aabc33e223087af745b8d8880d86a94c114535aece480fb2308",
            "config.sqlite_sequence": "1:6d337584e40429fb9fc179404626d02dac6fe27d3e01b34da1b18b69579efbe0",
            "config.ticket_numbers": "14:8131ec11d745ae37bb0d70fb73c71cf2df76b68a4713df52fd4e5dea7c69a831",
            "config.tickets": "771:62d7dfadf529c9b02fdb16f3e1d70b46c874dc688a79b9c184e3d5de1cf6a276",
            "config.windows": "20:4933a52480a17ad5691a75718711d25fbcf7da9b074b44e0f75a6d34aba6a6c2",
            "plan.case_numbers": "1:368a1f0f616ca6ab82fe70b86d25273c3a6c7a0ddb86f23d6acd512e4a3d2f21",
            "plan.cases": "486:762d9e30ef188e42755ce2adc6959f04fe6e780667a76e4a47067d6c1a708175",
            "plan.device_tokens": "0:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "plan.events": "4584:f211ae03fcfae28a008ca8cc4de9809c147349e8a0c508bc3fea811aba689610",
            "plan.meta": "1:407b4a41469e7051d7992460ba8c645f891ed3d1e232b6d305aa2be92f04f7ff",
            "plan.ratings": "423:60287dd6ed8d994a885806c5164ceb1db75a8cf2c67dd629f6e4eda8e578ab8b",
            "plan.rectifications": "15:dadeacca43aa9fb2d9eb074cdb89b97809f8a731fd037ac2da542d0450b045cf",
            "plan.service_times": "14:95675c0052b2b82b04ac8111cbdc41b68a76b2bc71fe7e86a852d842d8bc0336",
            "plan.sqlite_sequence": "1:7c0792540eb04e762b894ae457b52d8bc608f1c293d2ca43adb7ab1ea407cfcf",
            "plan.ticket_numbers": "14:8131ec11d745ae37bb0d70fb73c71cf2df76b68a4713df52fd4e5dea7c69a831",
            "plan.tickets": "771:b35ecd62dc138dd79e2238366e1eb6c82ab18b8cf554358e7be2d45a8fbbdf93",
            "plan.windows": "22:1174cd389ef89414e3bf214048dc10fbd7382f26a29ad60af06dc3aec37205d8",
        },
    },
}

# ---------------------------------------------------------------------- the runs


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
