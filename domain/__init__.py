"""The language everyone shares: templates, calendars, ladders and the workflow contracts.

Pure Python and pydantic only, so it is safe inside the Temporal workflow sandbox.
"""
