"""The token cache: MSAL's API and JSON format, indexed lookups, and per-user persistence."""
from .persistence import PersistedTokenCache
from .schema import AuthorityType, CredentialType
from .serializable import SerializableTokenCache
from .store import TokenCache

__all__ = ["AuthorityType", "CredentialType", "PersistedTokenCache", "SerializableTokenCache", "TokenCache"]
