"""Exploring design spaces: differences between specs, sweeps over a grid, random samples.

Nothing here imports torch or graphviz; matplotlib only inside the plotting functions.
"""
