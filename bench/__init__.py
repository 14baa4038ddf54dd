"""Benchmarks: each figure of Yearwheel is a ratio against bare Temporal measured in the same run.

`make bench` (`python -m bench`) starts the embedded stack (Temporal dev server on a SQLite file,
the API and a worker as processes) plus a worker for the bare baseline workflows, runs each
benchmark against both on the same server, prints the table and saves it as JSON.
"""
