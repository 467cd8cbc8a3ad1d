"""``SerializableTokenCache``: the token cache to and from MSAL's JSON text."""
from __future__ import annotations

import json
from typing import Any, Optional, Union

from .. import strict_json
from ..exceptions import ConfigurationError
from .schema import Entry
from .store import TokenCache


def parse_document(state: Union[str, bytes]) -> Any:
    """The JSON value of a serialized cache; ValueError (naming no secret) when it is not JSON."""
    try:
        return strict_json.loads(state)
    except (UnicodeDecodeError, ValueError) as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"not valid JSON ({type(error).__name__})") from None


class SerializableTokenCache(TokenCache):
    """MSAL's ``SerializableTokenCache``: ``serialize()`` writes MSAL's JSON, ``deserialize()`` reads it.

    Sections and fields this version does not know are kept as found and written back.

    :var has_state_changed: whether the cache changed since the last serialize or deserialize.
    """

    has_state_changed = False

    def _put(self, credential_type: str, key: str, entry: Optional[Entry]) -> None:
        super()._put(credential_type, key, entry)
        self.has_state_changed = True

    def deserialize(self, state: Optional[Union[str, bytes]]) -> None:
        """Replace the cache with one previously obtained by ``serialize()`` (empty if None)."""
        try:
            self._load_document(parse_document(state) if state else {})
        except ValueError as error:
            raise ConfigurationError(f"cannot deserialize the token cache: {error}") from None
        self.has_state_changed = False

    def serialize(self) -> str:
        """The cache as MSAL's JSON text."""
        with self._lock:
            self.has_state_changed = False
            return json.dumps(self._document(), indent=4)
