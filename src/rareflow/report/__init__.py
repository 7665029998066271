"""Self-contained HTML reports (plotly, embedded so they open offline)."""
