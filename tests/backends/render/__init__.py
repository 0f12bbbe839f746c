"""Tests of the diagram backend: DOT, figures and the interactive page."""
