"""The lab's history: every run's step verdicts and energy figures, night by night, in a
database (SQLite by default, PostgreSQL for a lab with many controllers), and the trends
and page read from it (docs/history.md)."""
