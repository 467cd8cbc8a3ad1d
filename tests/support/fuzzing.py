"""Hypothesis settings and strategies shared by the fuzz tests (tests/test_fuzz_*.py).

Every fuzz test is bounded (examples and per-example deadline) and reproducible: derandomized,
no example database, so CI runs the same inputs every time.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Dict, Iterable, Optional

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from nbauth.exceptions import NbauthError


def fuzz(max_examples: int = 200, deadline_ms: Optional[int] = 500) -> settings:
    """Settings for one fuzz test: ``max_examples`` inputs, each within ``deadline_ms`` (None: no
    deadline, for tests of files whose fsyncs a loaded machine can hold up for seconds)."""
    deadline = None if deadline_ms is None else timedelta(milliseconds=deadline_ms)
    return settings(max_examples=max_examples, deadline=deadline, derandomize=True,
                    database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                          HealthCheck.too_slow])


@contextmanager
def nbauth_error_or_nothing():
    """The block either succeeds or raises an nbauth error whose message is not empty."""
    try:
        yield
    except NbauthError as error:
        assert str(error).strip(), f"{type(error).__name__} without a message"


#: Text including what parsers trip on: control characters, lone surrogates, long runs.
texts = st.text(st.characters(codec=None, categories=None), max_size=40) | st.sampled_from(
    ["", " ", "\x00", "\ud800", "null", "NaN", "1e999", "-1", "0x10", "9" * 30, "https://[::1", "http://[x"])
#: Numbers a JSON document can carry, including what json.dumps writes as NaN / Infinity.
numbers = st.integers(min_value=-(10 ** 40), max_value=10 ** 40) | st.floats() | st.sampled_from(
    [0, -1, 2 ** 63, 10 ** 400, 1e308, float("inf"), float("nan")])
scalars = st.none() | st.booleans() | numbers | texts
#: Any JSON value (as Python loads it), nested a few levels.
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(texts, inner, max_size=4), max_leaves=12)


def deeply_nested(depth: int = 5_000) -> str:
    """A JSON array nested deeper than any parser's recursion limit."""
    return "[" * depth + "]" * depth


_DROP = object()


def _dumps(value: Any) -> str:
    return json.dumps(value)  # allow_nan: NaN / Infinity reach the parsers as some servers send them


#: Bodies an HTTP server could answer: JSON of any shape, broken JSON, nesting bombs, noise.
json_texts = (json_values.map(_dumps)
              | json_values.map(_dumps).flatmap(lambda text: st.integers(0, max(0, len(text) - 1)).map(
                  lambda cut: text[:cut]))
              | st.sampled_from([deeply_nested(), '{"a":' * 5_000, "\ufeff{}", "{}" * 3, "[]"])
              | texts)


def mutations(valid: Dict[str, Any], extra_keys: Iterable[str] = ()) -> st.SearchStrategy:
    """Dicts made from ``valid``: each field kept, dropped or replaced by any JSON value, and
    fields from ``extra_keys`` sometimes added with any value."""
    def field_choice(value):
        return st.sampled_from(["keep", "drop", "replace"]).flatmap(
            lambda how: st.just(value) if how == "keep" else st.just(_DROP) if how == "drop" else json_values)

    kept = st.fixed_dictionaries({key: field_choice(value) for key, value in valid.items()})
    added = st.fixed_dictionaries({}, optional={key: json_values for key in extra_keys})
    return st.tuples(kept, added).map(
        lambda parts: {k: v for k, v in {**parts[0], **parts[1]}.items() if v is not _DROP})



def tweaks(valid: Dict[str, Any], extra_keys: Iterable[str] = (), max_changes: int = 2) -> st.SearchStrategy:
    """``valid`` with one or a few fields (its own or ``extra_keys``) dropped or set to any JSON
    value: mostly-valid input that reaches past the first checks."""
    names = sorted(set(valid) | set(extra_keys))
    change = st.tuples(st.sampled_from(names), st.just(_DROP) | json_values)

    def apply(changes):
        changed = dict(valid, **dict(changes))
        return {k: v for k, v in changed.items() if v is not _DROP}

    return st.lists(change, min_size=1, max_size=max_changes).map(apply)
