"""The ``stress:`` section schema: units, dates, figures with provenance, rejections."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rareflow.scenario.schema_stress import StressSection


def section(**over):
    base = {"horizon": {"start": "2026-01", "months": 24}}
    base.update(over)
    return StressSection.model_validate(base)


def test_units_dates_and_figures():
    s = section(
        horizon={"start": "2025-04-04", "months": "3 yr"},
        redirect_share={"value": "40 %", "source": "x", "confidence": "low"},
        restrictions={"r": {"origins": ["CN"], "contains": ["Dy"], "start": "2025-04-04",
                            "duration": "18 months", "severity": "74 %",
                            "licence_delay": "2 months", "assumption": "test"}},
        stockpiles={"s": {"months": "6 months", "max_draw": "120 t/yr", "assumption": "t"}},
    )
    assert s.horizon.start == (2025, 4) and s.horizon.n_months == 36
    assert s.redirect_share == pytest.approx(0.4)
    r = s.restrictions["r"]
    assert r.duration == pytest.approx(1.5) and r.severity == pytest.approx(0.74)
    assert r.licence_delay * 12 == pytest.approx(2.0)
    assert s.stockpiles["s"].max_draw == pytest.approx(120.0)


@pytest.mark.parametrize(
    ("over", "fragment"),
    [
        ({"restrictions": {"r": {"origins": ["CN"], "start": "2026-01", "assumption": "a"}}},
         "name the materials"),
        ({"restrictions": {"r": {"origins": ["CN"], "materials": ["m"], "start": "2026-05",
                                 "end": "2026-01", "assumption": "a"}}}, "is before start"),
        ({"restrictions": {"r": {"origins": ["CN"], "materials": ["m"], "start": "2026-01",
                                 "end": "2026-05", "duration": "3 months",
                                 "assumption": "a"}}}, "either end or duration"),
        ({"restrictions": {"r": {"origins": ["CN"], "materials": ["m"], "start": "2026-13",
                                 "assumption": "a"}}}, "expected a date"),
        ({"restrictions": {"r": {"origins": ["CN"], "materials": ["m"], "start": "2026-01",
                                 "severity": "120 %", "assumption": "a"}}}, "between 0 % and 100 %"),
        ({"restrictions": {"r": {"origins": ["CN"], "materials": ["m"], "start": "2026-01",
                                 "licence_delay": "3 kg", "assumption": "a"}}}, "is a mass"),
        ({"stockpiles": {"s": {"size": "5 t", "months": "2 months", "assumption": "a"}}},
         "size (t) or months"),
        ({"horizon": {"start": "2026-01", "months": 0}}, "1..1200 months"),
        ({"redirect_share": {"value": "10 %", "source": "x"}}, "needs 'confidence"),
        ({"outages": {"o": {"start": "2026-01", "assumption": "a"}}}, "facility or region"),
        ({"unknown_key": 1}, "Extra inputs are not permitted"),
    ],
)
def test_rejections(over, fragment):
    with pytest.raises(ValidationError) as e:
        section(**over)
    assert fragment in str(e.value)
