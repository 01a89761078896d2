"""Performance configs: the default is valid, typos and wrong types are named."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pytest

from kelly_actors.config import performance
from kelly_actors.config.typed import Checked, ConfigError, describe_range, from_mapping, setting


def test_the_built_in_default_performance_is_valid_and_ordered_by_dependencies() -> None:
    config = performance.load()
    order = config.start_order()
    for spec in config.actors:
        for dep in spec.depends_on:
            assert order.index(dep) < order.index(spec.name)


@dataclass(frozen=True)
class Example:
    rate: int = 48_000
    gain: float = 1.0
    name: str = "x"
    cpus: tuple[int, ...] = ()
    device: str | None = None


def test_typed_config_converts_lists_to_tuples_and_ints_to_floats() -> None:
    cfg = from_mapping(Example, {"gain": 2, "cpus": [0, 1], "device": None}, "ex")
    assert cfg == Example(gain=2.0, cpus=(0, 1))
    assert isinstance(cfg.gain, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rat": 1}, "ex: unknown key(s) rat"),
        ({"rate": "fast"}, "ex.rate: expected an integer"),
        ({"rate": True}, "ex.rate: expected an integer"),
        ({"gain": "loud"}, "ex.gain: expected a number"),
        ({"cpus": [0, "one"]}, "ex.cpus[1]: expected an integer"),
        ({"device": 3}, "ex.device: expected str"),
    ],
)
def test_typed_config_names_the_key_that_is_wrong(data, message) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        from_mapping(Example, data, "ex")


@dataclass(frozen=True)
class Inner(Checked):
    swing: float = setting(0.0, low=0.0, high=0.5)
    kit: str = setting("standard", choices=("standard", "brush"))


@dataclass(frozen=True)
class Outer(Checked):
    tempo: float = setting(120.0, above=0.0)
    voices: int = setting(8, low=1)
    drums: Inner = Inner()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tempo": 0}, "outer: tempo must be > 0.0, got 0.0"),
        ({"voices": 0}, "outer: voices must be ≥ 1, got 0"),
        ({"drums": {"swing": 0.7}}, "outer.drums: swing must be within 0.0…0.5, got 0.7"),
        ({"drums": {"kit": "jazz"}}, "outer.drums: kit must be one of standard, brush, got 'jazz'"),
    ],
)
def test_a_setting_outside_its_declared_range_names_the_table_the_key_and_the_bounds(
    data, message
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        from_mapping(Outer, data, "outer")


def test_a_checked_config_built_in_code_is_checked_too_and_its_ranges_read_as_words() -> None:
    with pytest.raises(ValueError, match="swing must be within"):
        Inner(swing=-0.1)
    fields = {f.name: f for f in dataclasses.fields(Outer)}
    assert [describe_range(fields[n]) for n in ("tempo", "voices", "drums")] == ["> 0.0", "≥ 1", ""]
    assert from_mapping(Outer, {"drums": {"swing": 0.25}}, "outer").drums == Inner(swing=0.25)


def test_a_dependency_cycle_is_refused() -> None:
    data = {
        "actors": [
            {"name": "a", "target": "m:A", "depends_on": ["b"]},
            {"name": "b", "target": "m:B", "depends_on": ["a"]},
        ]
    }
    with pytest.raises(ConfigError, match="dependency cycle"):
        performance.parse(data)


def test_a_ring_read_by_an_unknown_actor_is_refused() -> None:
    data = {
        "actors": [{"name": "a", "target": "m:A"}],
        "rings": [{"name": "r", "shape": [4], "writer": "a", "readers": ["ghost"]}],
    }
    with pytest.raises(ConfigError, match=re.escape("rings.r: no actor named 'ghost'")):
        performance.parse(data)


@pytest.mark.parametrize(
    ("twin", "message"),
    [
        ({"twin_of": "ghost"}, "actors.b.twin_of: no actor named 'ghost'"),
        ({"twin_of": "a", "target": "m:Other"}, "'a' must be a primary of the same target"),
        ({"min_cpus": 2}, "min_cpus is for a standby (twin_of) only"),
    ],
)
def test_a_standby_must_mirror_an_existing_primary_of_the_same_kind(twin, message) -> None:
    data = {"actors": [{"name": "a", "target": "m:A"}, {"name": "b", "target": "m:A", **twin}]}
    with pytest.raises(ConfigError, match=re.escape(message)):
        performance.parse(data)


def test_on_one_cpu_the_default_performance_leaves_its_standby_synth_out() -> None:
    config = performance.load()
    assert performance.twins(config, "synth") == ("synth_b",)
    assert performance.for_cpus(config, 2) is config
    single = performance.for_cpus(config, 1)
    assert "synth_b" not in {a.name for a in single.actors}
    assert "audio_out_b" not in {r.name for r in single.rings}
    notes = next(r for r in single.rings if r.name == "notes")
    assert notes.readers == ("synth",)
    assert single.actor("audio").options["standby_ring"] == ""
    assert single.actor("audio").options["backend"] == "auto"  # other options untouched
    performance._check_graph(single)  # still a valid graph
