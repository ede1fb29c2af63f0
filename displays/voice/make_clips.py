#!/usr/bin/env python3
"""Render the wall's call clips (叫号语音片段) with espeak-ng and sox.

Run by hand after changing the clip table, never at install or run time:

    python3 displays/voice/make_clips.py            # writes displays/static/voice/

Needs Debian's ``espeak-ng`` (voice ``cmn-latn-pinyin``: Mandarin read from pinyin with
tone digits; the ``cmn`` voice reads many characters as English words) and ``sox`` (with
Ogg Vorbis). Each clip is rendered from pinyin, trimmed of leading and trailing silence,
normalised to -1 dBFS, resampled to 16 kHz mono and encoded as Ogg Vorbis. The wall joins
the clips in order (see ``displays/static/js/voice-clips.js``):

    请 / A / 零 / 零 / 一 / 号 / 到 / 十 / 五 / 号窗口 / 办理

``manifest.json`` lists every clip (key, file, pinyin, duration). A hall can replace the
files with recordings of a real announcer: same keys, any Ogg Vorbis or WAV file (then
change ``file`` in the manifest). See docs/voice.md.

espeak-ng is GPL-3.0-or-later; the audio it produces is not covered by its licence.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "static" / "voice"
VOICE = "cmn-latn-pinyin"
SPEED_WPM = 150  # a little slower than espeak-ng's 175: calls are heard across a hall
SAMPLE_RATE = 16000
VORBIS_QUALITY = 3

# key (what the normaliser emits) -> (file stem, pinyin with tone digits)
CARRIER = {
    "请": ("qing", "qing3"),
    "号": ("hao", "hao4"),
    "到": ("dao", "dao4"),
    "号窗口": ("hao-chuangkou", "hao4 chuang1 kou3"),
    "办理": ("banli", "ban4 li3"),
    "再次呼叫": ("zaici-hujiao", "zai4 ci4 hu1 jiao4"),  # said before a recall (重呼)
}

# Ticket digits are read one by one (A012 -> A 零 一 二); window numbers as numbers (15 -> 十五).
NUMBERS = {
    "零": ("ling", "ling2"),
    "一": ("yi", "yi1"),
    "二": ("er", "er4"),
    "三": ("san", "san1"),
    "四": ("si", "si4"),
    "五": ("wu", "wu3"),
    "六": ("liu", "liu4"),
    "七": ("qi", "qi1"),
    "八": ("ba", "ba1"),
    "九": ("jiu", "jiu3"),
    "十": ("shi", "shi2"),
}

# Letters of queue codes as Chinese halls say them: the English letter name in Mandarin
# sounds (the usual 谐音 spelling in brackets).
LETTERS = {
    "A": "ei1",  # 诶
    "B": "bi4",  # 比
    "C": "xi1",  # 西
    "D": "di4",  # 迪
    "E": "yi1",  # 伊
    "F": "ai4 fu2",  # 艾弗
    "G": "ji4",  # 吉
    "H": "ai4 chi3",  # 艾尺
    "I": "ai4",  # 艾
    "J": "jie4",  # 杰
    "K": "kai1",  # 开
    "L": "ai4 le4",  # 艾勒
    "M": "ai4 mu3",  # 艾姆
    "N": "en1",  # 恩
    "O": "ou1",  # 欧
    "P": "pi1",  # 披
    "Q": "qiu1",  # 丘
    "R": "a4 er3",  # 阿尔
    "S": "ai4 si1",  # 艾斯
    "T": "ti4",  # 替
    "U": "you1",  # 优
    "V": "wei1",  # 维
    "W": "da2 bu5 liu1",  # 达布溜
    "X": "ai4 ke4 si1",  # 艾克斯
    "Y": "wai1",  # 歪
    "Z": "zei4 de5",  # 贼德
}


def clip_table() -> dict[str, tuple[str, str]]:
    table = dict(CARRIER)
    table.update(NUMBERS)
    table.update({letter: (f"letter-{letter.lower()}", pinyin) for letter, pinyin in LETTERS.items()})
    return table


def render(pinyin: str, target: Path, work: Path) -> None:
    raw = work / (target.stem + ".wav")
    subprocess.run(["espeak-ng", "-v", VOICE, "-s", str(SPEED_WPM), "-w", str(raw), pinyin], check=True)
    # Trim silence at both ends (sox trims the start; reverse, trim, reverse for the end),
    # normalise to -1 dBFS, 16 kHz mono, Ogg Vorbis.
    subprocess.run(
        [
            "sox",
            str(raw),
            "-r",
            str(SAMPLE_RATE),
            "-c",
            "1",
            "-C",
            str(VORBIS_QUALITY),
            str(target),
            "silence",
            "1",
            "0.01",
            "0.5%",
            "reverse",
            "silence",
            "1",
            "0.01",
            "0.5%",
            "reverse",
            "norm",
            "-1",
        ],
        check=True,
    )


def duration_s(path: Path) -> float:
    out = subprocess.run(["soxi", "-D", str(path)], check=True, capture_output=True, text=True).stdout
    return round(float(out.strip()), 3)


def espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], check=True, capture_output=True, text=True).stdout
    return " ".join(out.split()[:4])  # "eSpeak NG text-to-speech: 1.51"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = ap.parse_args(argv)
    for tool in ("espeak-ng", "sox", "soxi"):
        if shutil.which(tool) is None:
            print(
                f"make_clips: {tool} not found (apt-get install espeak-ng sox: Ogg Vorbis comes with libsox-fmt-base)",
                file=sys.stderr,
            )
            return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    clips = {}
    with tempfile.TemporaryDirectory() as tmp:
        for key, (stem, pinyin) in clip_table().items():
            target = out / f"{stem}.ogg"
            render(pinyin, target, Path(tmp))
            clips[key] = {"file": target.name, "pinyin": pinyin, "duration_s": duration_s(target)}
    manifest = {
        "about": "HallOps call clips, joined in order by displays/static/js/voice-clips.js; "
        "made by displays/voice/make_clips.py (see docs/voice.md)",
        "source": f"{espeak_version()}, voice {VOICE}, {SPEED_WPM} wpm; sox: trimmed, normalised -1 dBFS",
        "format": "audio/ogg; codecs=vorbis",
        "sample_rate": SAMPLE_RATE,
        "gap_ms": 60,
        "clips": clips,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"make_clips: {len(clips)} clips, {total / 1024:.0f} KiB in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
