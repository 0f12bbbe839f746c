"""Tests of the Python API: create_model, list_models, and the documented examples."""
