"""HallOps 管理看板: the router and the shared frame.

Run with ``hallops dashboard --db var/hall.db`` (which sets ``HALLOPS_DB`` and runs
``streamlit run`` on this file). The pages are in ``app_pages/``; this file declares them
with ``st.navigation``, draws the frame (hall name, sidebar filters of the current page)
and runs the chosen page.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import dashboard  # noqa: F401
except ModuleNotFoundError:  # run from a checkout that is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st

from dashboard import city_ui, theme, ui


def _favicon():
    """A plain square in the colour of 无差别综合, drawn here: nothing is fetched at run time."""
    from PIL import Image, ImageDraw  # a Streamlit dependency

    icon = Image.new("RGB", (32, 32), theme.KIND_COLORS["无差别综合"])
    ImageDraw.Draw(icon).rectangle((8, 8, 23, 23), outline="white", width=4)
    return icon


# No page icons: the browser would fetch a Material icon as the page's favicon from
# fonts.gstatic.com, and a hall's closed network has no way out.
PAGES = [
    st.Page("app_pages/live.py", title="实时", url_path="live", default=True),
    st.Page("app_pages/cases.py", title="办件", url_path="cases"),
    st.Page("app_pages/ratings.py", title="好差评", url_path="ratings"),
    st.Page("app_pages/windows.py", title="窗口与人员", url_path="windows"),
    st.Page("app_pages/report.py", title="报表", url_path="report"),
    st.Page("app_pages/whatif.py", title="排班模拟", url_path="whatif"),
    st.Page("app_pages/visits.py", title="最多跑一次与事项", url_path="visits"),
    st.Page("app_pages/complaints.py", title="投诉与纠纷", url_path="complaints"),
    st.Page("app_pages/integrated.py", title="一件事", url_path="integrated"),
]
if city_ui.city_url():  # a city's database: the halls side by side (docs/city.md)
    PAGES.append(st.Page("app_pages/city.py", title="全市对比", url_path="city"))

page = st.navigation(PAGES)
st.set_page_config(page_title=f"{page.title} · HallOps 管理看板", page_icon=_favicon(), layout="wide")
ui.frame(page.url_path or "live")  # the default page has the root path ""
page.run()
