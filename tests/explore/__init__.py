"""Tests of archcompiler's explore layer."""
