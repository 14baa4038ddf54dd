"""The only side effects the workflows cause: HTTP calls to the backend."""

from activities.backend import BackendActivities

__all__ = ["BackendActivities"]
