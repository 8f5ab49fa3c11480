"""Helpers the test modules share: page sessions, spreadsheets, child processes, calendars.

Test modules import helpers from here (or use the fixtures of ``tests/conftest.py``), never
from one another.
"""
