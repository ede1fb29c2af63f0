"""HallOps manager dashboard: Streamlit pages over an in-process DuckDB copy of the hall's
SQLite database (see docs/dashboard.md).

Layout: ``data.py`` loads and refreshes the warehouse, ``queries.py`` holds the SQL,
``charts.py`` the pure DataFrame -> Figure builders, ``theme.py`` colours and labels,
``report.py`` the monthly report, ``streamlit_app.py`` the router and ``app_pages/`` the pages.
"""
