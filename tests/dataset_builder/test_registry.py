"""The one registry class, and its use for the degradation types and the clean sources."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from medqdeg.dataset_builder.degradations import degrade, get_degradation, list_degradations
from medqdeg.dataset_builder.degradations.registry import DEGRADATIONS
from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.registry import Registry
from medqdeg.dataset_builder.sources import SOURCES, is_released_source

PAPER_SPELLINGS = {
    "rotation": "object_rotation", "random_motion": "object_movement", "brightness": "adjust_brightness",
    "contrast": "reduce_contrast", "downsample": "low_resolution", "downsampling": "low_resolution",
    "ghosting": "ghosting_artifact", "undersampling": "undersampling_artifact", "bias_field": "bias_field_artifact",
    "blood_cell": "blood_cell_artifact", "dark_spots": "dark_spots_artifact",
}


def shapes() -> Registry:
    return Registry("shape", accepts=callable, expected="a function")


def test_decorator_registers_the_object_unchanged_with_aliases_and_metadata():
    registry = shapes()

    @registry.register("square", aliases=("box", "quad"), sides=4)
    def square(size):
        return size * size

    assert square(3) == 9
    assert registry.get("square") is square and registry.get("box") is square and registry.get("quad") is square
    assert registry.canonical("quad") == "square"
    assert registry.metadata("box") == {"sides": 4}
    assert registry.names() == ["square"]  # aliases are not choices
    assert "box" in registry and "square" in registry and "circle" not in registry


def test_names_are_sorted():
    registry = shapes()
    for name in ("triangle", "circle", "square"):
        registry.add(name, len)
    assert registry.names() == ["circle", "square", "triangle"]


def test_unknown_name_names_the_kind_and_lists_the_available_ones():
    registry = shapes()
    registry.add("square", len)
    registry.add("circle", len)
    with pytest.raises(InvalidInputError) as raised:
        registry.get("sqaure")
    assert raised.value.field == "shape"
    assert str(raised.value) == "field `shape` is 'sqaure', an unknown shape; expected one of circle, square"
    with pytest.raises(InvalidInputError, match="unknown shape"):
        registry.metadata("sqaure")


@pytest.mark.parametrize("name, aliases", [("square", ()), ("box", ()), ("other", ("box",)), ("other", ("square",))])
def test_a_name_or_alias_is_registered_once(name, aliases):
    registry = shapes()
    registry.add("square", len, aliases=("box",))
    with pytest.raises(InvalidInputError, match="registered twice"):
        registry.add(name, len, aliases=aliases)
    assert registry.names() == ["square"]


def test_repeated_aliases_are_refused():
    with pytest.raises(InvalidInputError, match="aliases"):
        shapes().add("square", len, aliases=("box", "box"))
    with pytest.raises(InvalidInputError, match="aliases"):
        shapes().add("square", len, aliases=("square",))


def test_the_type_check_refuses_an_object_of_the_wrong_kind():
    registry = shapes()
    with pytest.raises(InvalidInputError, match=r"square: field `shape` registers an object of type int; expected a function"):
        registry.register("square")(4)
    assert "square" not in registry


@pytest.fixture
def lazy_module(tmp_path, monkeypatch):
    """A module on sys.path that no one has imported yet."""
    name = f"lazy_shapes_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent("""
        def circle(radius):
            return 3 * radius * radius
        NOT_A_FUNCTION = 7
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_a_lazy_entry_is_imported_on_lookup_only_and_is_the_modules_current_object(lazy_module, monkeypatch):
    registry = shapes()
    registry.add_lazy("circle", f"{lazy_module}:circle", aliases=("round",), curved=True)
    assert registry.names() == ["circle"] and registry.metadata("round") == {"curved": True}
    assert lazy_module not in sys.modules
    circle = registry.get("round")
    assert circle(2) == 12 and lazy_module in sys.modules
    assert registry.get("circle") is circle
    monkeypatch.setattr(sys.modules[lazy_module], "circle", len)  # as a test double would
    assert registry.get("circle") is len


def test_a_lazy_entry_is_type_checked_when_imported(lazy_module):
    registry = shapes()
    registry.add_lazy("seven", f"{lazy_module}:NOT_A_FUNCTION")
    with pytest.raises(InvalidInputError, match=r"seven: field `shape` registers an object of type int"):
        registry.get("seven")


@pytest.mark.parametrize("target", ["no_colon", ":circle", "module:"])
def test_a_lazy_target_must_name_a_module_and_an_object(target):
    with pytest.raises(InvalidInputError, match="target"):
        shapes().add_lazy("circle", target)


# ---- degradations ---------------------------------------------------------------------

def test_the_papers_spellings_are_aliases_of_the_types():
    for spelling, name in PAPER_SPELLINGS.items():
        assert DEGRADATIONS.canonical(spelling) == name
        assert get_degradation(spelling).name == name
    listed = [spec.name for spec in list_degradations()]
    assert not set(PAPER_SPELLINGS) & set(listed) and sorted(listed) == DEGRADATIONS.names()


def test_an_alias_degrades_and_records_as_the_types_own_name():
    image = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    by_alias, record = degrade(image, "rotation", 2, seed=3, item_id="x")
    by_name, expected = degrade(image, "object_rotation", 2, seed=3, item_id="x")
    assert record == expected and record.name == "object_rotation"
    np.testing.assert_array_equal(by_alias, by_name)


def test_an_unknown_degradation_lists_the_types():
    with pytest.raises(InvalidInputError, match=r"'sparse_veiw', an unknown degradation; expected one of .*sparse_view"):
        get_degradation("sparse_veiw")


# ---- sources --------------------------------------------------------------------------

def test_the_sources_and_which_publish_degraded_rows():
    built_in = {"csv", "embedded", "gmai-mmbench", "jsonl", "medqdeg-tsv", "medxpertqa", "omnimedvqa"}
    assert built_in <= set(SOURCES.names())  # tests may register more
    assert [name for name in sorted(built_in) if is_released_source(name)] == ["medqdeg-tsv"]
    for name in built_in:
        assert SOURCES.get(name).__module__.startswith("medqdeg.dataset_builder.sources."), name
    with pytest.raises(InvalidInputError, match=r"'nowhere', an unknown source; expected one of csv, embedded"):
        SOURCES.get("nowhere")


def test_listing_the_sources_imports_no_reader():
    code = ("import sys; from medqdeg.dataset_builder.sources import SOURCES; SOURCES.names(); "
            "print(sorted(m for m in sys.modules if m.startswith('medqdeg.dataset_builder.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for reader in ("embedded", "table", "vlmevalkit_tsv", "omnimedvqa", "medxpertqa", "files"):
        assert f"medqdeg.dataset_builder.sources.{reader}'" not in loaded
    assert "medqdeg.dataset_builder.degradations'" not in loaded
