"""The FastAPI backend: the only room that touches the database."""
