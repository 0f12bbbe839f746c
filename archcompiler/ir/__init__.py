"""The IR: typed op records with their formulas (`ops`), and the graph with its records (`graph`)."""
