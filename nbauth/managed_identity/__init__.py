"""Managed identity: tokens for the Azure compute a script runs on, as msal 1.39's
``ManagedIdentityClient`` gets them (``client``), from the source the environment names
(``sources``), for a system- or user-assigned identity (``identity``)."""
from .client import ManagedIdentityClient
from .identity import ManagedIdentity, ManagedIdentityError, SystemAssignedManagedIdentity, UserAssignedManagedIdentity

__all__ = ["ManagedIdentity", "ManagedIdentityClient", "ManagedIdentityError", "SystemAssignedManagedIdentity",
           "UserAssignedManagedIdentity"]
