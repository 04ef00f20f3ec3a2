"""The benchmark's words: level spellings, option letters, the stable hash."""

import hashlib
import json

import numpy as np
import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.vocabulary import (
    DEGRADED_LEVELS,
    DROP_NAMES,
    LEVEL_NAMES,
    LEVELS,
    MAX_OPTIONS,
    OPTION_LETTERS,
    level_name,
    level_or_none,
    parse_level,
    stable_hash,
    stable_key,
)


def test_level_parsing_accepts_ints_and_labels_and_refuses_the_rest():
    assert [parse_level(v) for v in (0, 1, 2, "L0", "l1", " L2 ", "2", np.int64(1))] == [0, 1, 2, 0, 1, 2, 2, 1]
    for bad in (3, -1, "L3", "high", True, np.bool_(True), 1.5, "", None):
        assert level_or_none(bad) is None
        with pytest.raises(InvalidInputError, match="split") as error:
            parse_level(bad, item="row 7", field="split")
        assert "row 7" in str(error.value)


def test_level_names_round_trip_and_name_the_drops():
    assert [parse_level(level_name(level)) for level in LEVELS] == list(LEVELS)
    assert LEVEL_NAMES == ("L0", "L1", "L2")
    assert DROP_NAMES == tuple(f"{level_name(level)}-L0" for level in DEGRADED_LEVELS) == ("L1-L0", "L2-L0")
    with pytest.raises(ValueError):
        level_name(3)


def test_one_letter_per_possible_option():
    assert len(OPTION_LETTERS) == MAX_OPTIONS
    assert OPTION_LETTERS == "".join(chr(ord("A") + i) for i in range(MAX_OPTIONS))


def test_stable_hash_is_blake2b_of_the_json_of_its_parts():
    """The seed of every generator: changing it would change every degraded image."""
    payload = json.dumps([7, "item-1", "sparse_view", 2], separators=(",", ":")).encode()
    expected = int.from_bytes(hashlib.blake2b(payload, digest_size=16).digest(), "little")
    assert stable_hash(7, "item-1", "sparse_view", 2) == expected
    assert stable_hash({"b": 1, "a": 2}) == stable_hash({"a": 2, "b": 1})  # key order does not matter
    assert stable_hash("a", "b") != stable_hash("ab") != stable_hash(["a", "b"])


def test_stable_key_is_the_hash_in_hex_and_refuses_impossible_lengths():
    assert stable_key("x", 1, chars=32) == f"{stable_hash('x', 1):032x}"
    assert stable_key("x", 1, chars=16) == stable_key("x", 1)[:16]
    assert stable_key("x", None) != stable_key("x", "")
    for chars in (0, 33):
        with pytest.raises(ValueError):
            stable_key("x", chars=chars)
