"""The bottom layer: diagnostics, strict registries, the spec-model base and atomic file output.

Everything above may import from here; nothing here imports from the rest of the package.
"""
