"""Tests of the backends: torch modules and diagrams."""
