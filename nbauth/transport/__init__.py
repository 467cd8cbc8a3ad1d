"""HTTP for nbauth: one small transport every token call goes through."""
from .base import HttpClient, HttpResponse
from .retry import RetryPolicy
from .session import Transport

__all__ = ["HttpClient", "HttpResponse", "RetryPolicy", "Transport"]
