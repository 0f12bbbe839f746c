"""The hostile corpus and the fuzzers: every input surface, across the layers."""
