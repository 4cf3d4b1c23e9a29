"""The course's command-line tools (``make slides``, ``make handouts``, ``make site-check`` ...).

Each module runs as ``python scripts/NAME.py`` (what the Makefile does) and imports as
``from scripts import NAME`` (what the tests and the other scripts do): the editable install
exposes this folder as a package beside ``utils``.
"""
