"""Which managed identity to ask for: msal's dict-shaped ``SystemAssignedManagedIdentity`` and
``UserAssignedManagedIdentity`` (by client id, resource id or object id)."""
from __future__ import annotations

from typing import Any, Optional

from ..exceptions import NbauthError


class ManagedIdentityError(NbauthError, ValueError):
    """A managed identity that is misconfigured, or a source that answered out of protocol."""


class ManagedIdentity(dict):
    """msal's shape: ``{"ManagedIdentityIdType": ..., "Id": ...}`` (a JSON blob of it works too)."""

    ID_TYPE = "ManagedIdentityIdType"
    ID = "Id"
    CLIENT_ID = "ClientId"
    RESOURCE_ID = "ResourceId"
    OBJECT_ID = "ObjectId"
    SYSTEM_ASSIGNED = "SystemAssigned"
    USER_ASSIGNED_TYPES = (CLIENT_ID, RESOURCE_ID, OBJECT_ID)

    def __init__(self, identifier: Optional[str] = None, id_type: Optional[str] = None) -> None:
        super().__init__({self.ID_TYPE: id_type, self.ID: identifier})

    @classmethod
    def is_system_assigned(cls, unknown: Any) -> bool:
        return isinstance(unknown, dict) and unknown.get(cls.ID_TYPE) == cls.SYSTEM_ASSIGNED

    @classmethod
    def is_user_assigned(cls, unknown: Any) -> bool:
        return (isinstance(unknown, dict) and unknown.get(cls.ID_TYPE) in cls.USER_ASSIGNED_TYPES
                and bool(unknown.get(cls.ID)))

    @classmethod
    def is_managed_identity(cls, unknown: Any) -> bool:
        return cls.is_system_assigned(unknown) or cls.is_user_assigned(unknown)


class SystemAssignedManagedIdentity(ManagedIdentity):
    """The compute resource's own identity."""

    def __init__(self) -> None:
        super().__init__(id_type=self.SYSTEM_ASSIGNED)


class UserAssignedManagedIdentity(ManagedIdentity):
    """An identity assigned to the resource, named by exactly one of its ids."""

    def __init__(self, *, client_id: Optional[str] = None, resource_id: Optional[str] = None,
                 object_id: Optional[str] = None) -> None:
        given = [(kind, value) for kind, value in ((self.CLIENT_ID, client_id), (self.RESOURCE_ID, resource_id),
                                                   (self.OBJECT_ID, object_id)) if value]
        if len(given) != 1:
            raise ManagedIdentityError("give exactly one of client_id, resource_id, object_id")
        super().__init__(id_type=given[0][0], identifier=given[0][1])
