"""``rareflow serve``: a local Dash web app over a run store (see docs/dashboard.md).

Importing this package imports nothing heavy; Dash is imported by
:func:`rareflow.app.server.create_app`.
"""
