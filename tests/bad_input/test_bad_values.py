"""Bad values: every one is refused as ``FILE:LINE: field.path: what is wrong (allowed)``,
exit 2, never a traceback and never a silently wrong number.

Each case writes a small file that ``extends:`` a bundled scenario into ``tmp_path`` and
breaks one value; the error must name the field path and the line written in that file.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rareflow
from rareflow.cli.main import app
from rareflow.errors import RareflowInputError

# name -> (body after `extends:`, parent, field path, line in the file, message regex)
CASES: dict[str, tuple[str, str, str, int, str]] = {
    # a quantity written as a mapping or a list where one value is expected
    "growth_mapping": ("demand:\n  us_other:\n    growth: {a: 1}\n", "us-baseline",
                       "demand.us_other.growth", 5, r"expected a single quantity .* got a "
                       r"mapping"),
    "quantity_list": ("demand:\n  us_other:\n    quantity: [1, 2]\n", "us-baseline",
                      "demand.us_other.quantity", 5, r"got a list \[1, 2\]"),
    "capacity_year_mapping": (
        "facilities:\n  vulcan_rtp_magnets:\n    capacity: {2026: {a: 1}}\n", "us-baseline",
        "facilities.vulcan_rtp_magnets.capacity", 5, r"2026: expected a single quantity"),
    "stress_figure_without_value": (
        "stress:\n  recycling_recovery: {source: [usgs_mcs_2025], confidence: low}\n",
        "us-embargo-12m", "stress.recycling_recovery", 4, r"expected a single quantity"),
    "activity_mapping": ("demand:\n  us_ev_bev:\n    activity: {2024: {a: 1}}\n", "us-baseline",
                         "demand.us_ev_bev.activity.2024", 5, r"expected a single quantity"),
    "activity_year_key": ("demand:\n  us_wind_geared:\n    activity: {2025-01: 6 MW/yr}\n",
                          "us-baseline", "demand.us_wind_geared.activity.2025-01", 5,
                          r"schedule keys must be years"),
    # NaN, infinite, negative and astronomically large values
    "capacity_nan": ("facilities:\n  vulcan_rtp_magnets:\n    capacity: nan t/yr\n", "us-baseline",
                     "facilities.vulcan_rtp_magnets.capacity", 5, r"finite|cannot read"),
    "capacity_huge": ("facilities:\n  vulcan_rtp_magnets:\n    capacity: 1e30 t/yr\n",
                      "us-baseline", "facilities.vulcan_rtp_magnets.capacity", 5,
                      r"implausibly large \(allowed: at most 1e9 t/yr\)"),
    "capacity_negative": ("facilities:\n  vulcan_rtp_magnets:\n    capacity: -5 t/yr\n",
                          "us-baseline", "facilities.vulcan_rtp_magnets.capacity", 5,
                          r"must not be negative"),
    "utilisation_nan": ("facilities:\n  vulcan_rtp_magnets:\n    utilisation: .nan\n",
                        "us-baseline", "facilities.vulcan_rtp_magnets.utilisation", 5,
                        r"must be a finite number"),
    "utilisation_inf": ("facilities:\n  vulcan_rtp_magnets:\n    utilisation: .inf\n",
                        "us-baseline", "facilities.vulcan_rtp_magnets.utilisation", 5,
                        r"must be a finite number"),
    "utilisation_over_one": ("facilities:\n  vulcan_rtp_magnets:\n    utilisation: 150 %\n",
                             "us-baseline", "facilities.vulcan_rtp_magnets.utilisation", 5,
                             r"between 0 % and 100 %"),
    "import_share_negative": (
        "trade:\n  import_shares:\n    us_magnets:\n      origins: {CN: -0.1, XR: 1.1}\n",
        "us-baseline", "trade.import_shares.us_magnets.origins.CN", 6, r"must not be negative"),
    "import_share_huge": (
        "trade:\n  import_shares:\n    us_magnets:\n      origins: {CN: 1e300, XR: 0}\n",
        "us-baseline", "trade.import_shares.us_magnets.origins.CN", 6, r"between 0 % and 100 %"),
    "demand_quantity_nan": ("demand:\n  us_other:\n    quantity: .nan\n", "us-baseline",
                            "demand.us_other.quantity", 5, r"no unit|finite"),
    "activity_inf": ("demand:\n  us_ev_bev:\n    activity: .inf\n", "us-baseline",
                     "demand.us_ev_bev.activity", 5, r"must be a finite number"),
    "activity_negative": ("demand:\n  us_ev_bev:\n    activity: -5\n", "us-baseline",
                          "demand.us_ev_bev.activity", 5, r"must not be negative"),
    "activity_huge": ("demand:\n  us_ev_bev:\n    activity: 1e300\n", "us-baseline",
                      "demand.us_ev_bev.activity", 5, r"implausibly large"),
    "growth_huge": ("demand:\n  us_other:\n    growth: 1e6 %/yr\n", "us-baseline",
                    "demand.us_other.growth", 5, r"implausibly large \(allowed: at most "
                    r"1000 %/yr\)"),
    "growth_nan": ("demand:\n  us_other:\n    growth: nan %/yr\n", "us-baseline",
                   "demand.us_other.growth", 5, r"finite"),
    # growth at or below -100 %/yr would give negative tonnages
    "growth_below_minus_100": ("demand:\n  us_other:\n    growth: -150 %/yr\n", "us-baseline",
                               "demand.us_other.growth", 5, r"above -100 %/yr"),
    "growth_minus_100": ("production:\n  cn_magnets:\n    growth: -100 %/yr\n", "us-baseline",
                         "production.cn_magnets.growth", 5, r"above -100 %/yr"),
    # growth compounding past the mass-rate bound by the last model year
    "growth_compounds_too_far": (
        "years: {start: 2024, end: 2100}\ndemand:\n  us_other:\n    growth: 50 %/yr\n",
        "us-baseline", "demand.us_other.growth", 6, r"takes this demand to .* by 2100 "
        r"\(allowed: at most 1e9 t/yr"),
    # years
    "years_to_2200": ("years: {start: 2024, end: 2200}\n", "us-baseline", "years.end", 3,
                      r"outside the modelled range \(allowed: 1950..2100\)"),
    "years_reversed": ("years: {start: 2035, end: 2024}\n", "us-baseline", "years", 3,
                       r"end \(2024\) is before start \(2035\) \(allowed: start <= end"),
    "years_before_1950": ("years: {start: 1800, end: 2030}\n", "us-baseline", "years.start", 3,
                          r"allowed: 1950..2100"),
    # distributions: missing keys, bounds, and ends outside the field's range
    "dist_missing_mode": (
        "stress:\n  redirect_share:\n    value: {dist: triangular, low: 10 %, high: 50 %}\n",
        "us-embargo-12m", "stress.redirect_share.value", 5, r"missing mode"),
    "dist_low_above_high": (
        "stress:\n  redirect_share:\n    value: {dist: uniform, low: 60 %, high: 50 %}\n",
        "us-embargo-12m", "stress.redirect_share.value", 5, r"low .* must not exceed high"),
    "dist_mode_outside": (
        "stress:\n  redirect_share:\n    value: {dist: pert, low: 10 %, mode: 90 %, "
        "high: 50 %}\n", "us-embargo-12m", "stress.redirect_share.value", 5,
        r"mode .* must lie between low"),
    "dist_negative_sd": (
        "stress:\n  redirect_share:\n    value: {dist: normal, mean: 20 %, sd: -5 %}\n",
        "us-embargo-12m", "stress.redirect_share.value", 5, r"sd must be > 0"),
    "dist_high_above_field": (
        "stress:\n  redirect_share:\n    value: {dist: uniform, low: 10 %, high: 150 %}\n",
        "us-embargo-12m", "stress.redirect_share.value", 5,
        r"high end \(1.5\) is not a valid value here: a share must lie between 0 % and 100 %"),
    "dist_unbounded_normal_share": (
        "stress:\n  redirect_share:\n    value: {dist: normal, mean: 20 %, sd: 5 %}\n",
        "us-embargo-12m", "stress.redirect_share.value", 5,
        r"low end .* must not be negative .*truncate it with low: and high:"),
    # plain-number fields: no NaN/inf, bounded multipliers
    "demand_shock_inf": (
        "stress:\n  demand_shocks:\n    surge:\n      start: 2026-03\n      duration: 6 months\n"
        "      multiplier: .inf\n      assumption: test\n", "us-embargo-12m",
        "stress.demand_shocks.surge.multiplier", 8, r"finite number"),
    "demand_shock_huge": (
        "stress:\n  demand_shocks:\n    surge:\n      start: 2026-03\n      duration: 6 months\n"
        "      multiplier: 1e300\n      assumption: test\n", "us-embargo-12m",
        "stress.demand_shocks.surge.multiplier", 8, r"less than or equal to 1000"),
    # removing the residual supplier of metal and alloy leaves magnet makers without alloy
    "self_supply_removed": ("self_supply:\n  cn_metal_alloy: null\n", "us-baseline",
                            "self_supply.cn_metal_alloy", 4,
                            r"self_supply.cn_metal_alloy is removed, so nothing supplies "
                            r"'[a-z_]+' to process '[a-z_]+' in [A-Z]{2}"),
    "self_supply_process_dropped": (
        "self_supply:\n  cn_metal_alloy:\n    processes: [reduce_ndpr, reduce_dy, reduce_tb, "
        "alloy_bonded]\n", "us-baseline", "self_supply.cn_metal_alloy.processes", 5,
        r"nothing supplies 'ndfeb_alloy_sintered' to process '[a-z_]+' in [A-Z]{2}"),
}


def _write(tmp_path: Path, name: str, body: str, parent: str) -> Path:
    f = tmp_path / f"{name}.yaml"
    f.write_text(f"name: {name.replace('_', '-')}\nextends: {parent}\n{body}")
    return f


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_value_is_refused_with_its_location(tmp_path: Path, name: str) -> None:
    body, parent, path, line, pattern = CASES[name]
    f = _write(tmp_path, name, body, parent)
    t0 = time.perf_counter()
    with pytest.raises(RareflowInputError) as info:
        rareflow.run(rareflow.load_scenario(f))
    assert time.perf_counter() - t0 < 5
    text = info.value.format()
    assert re.search(pattern, text), text
    if path:
        mine = [p for p in info.value.problems if p.path == path]
        assert mine, text
        assert mine[0].line == line and mine[0].file and mine[0].file.endswith(f.name), text
    for p in info.value.problems:
        assert p.file and p.line, p.format()


@pytest.mark.parametrize("name", ["quantity_list", "growth_below_minus_100", "years_to_2200",
                                  "dist_high_above_field", "self_supply_removed"])
def test_cli_validate_exits_2_without_traceback(tmp_path: Path, name: str) -> None:
    body, parent, path, line, pattern = CASES[name]
    f = _write(tmp_path, name, body, parent)
    res = CliRunner().invoke(app, ["validate", str(f)])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit)
    assert re.search(pattern, res.output), res.output
    if path:
        assert re.search(rf"{re.escape(f.name)}:{line}: {re.escape(path)}: ", res.output), \
            res.output


@pytest.mark.parametrize("args", [
    ["stress", "us-embargo-6m", "--seed", "-1", "--samples", "2"],
    ["stress", "us-embargo-6m", "--seed", str(2**32), "--samples", "2"],
    ["economics", "vulcan-10k", "--seed", "-1"],
    ["sensitivity", "us-embargo-6m", "--seed", "-1"],
])
def test_seed_out_of_range_exits_2(args: list[str]) -> None:
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert "--seed" in res.output


def test_good_values_still_run(tmp_path: Path) -> None:
    """The bounds leave room: a big but real capacity, -99 %/yr and 2100 are accepted."""
    f = _write(tmp_path, "fine", "years: {start: 2024, end: 2100}\nfacilities:\n"
               "  vulcan_rtp_magnets:\n    capacity: 5e8 t/yr\ndemand:\n  us_other:\n"
               "    growth: -99 %/yr\n", "us-baseline")
    res = rareflow.run(rareflow.load_scenario(f))
    df = res.table("flows")
    assert (df["production_t"] >= 0).all()
