"""The spec language: located YAML, variants, the schema, validation and resolution.

`resolve(path_or_name)` runs this whole layer and returns a `ResolvedSpec`: one explicit,
located entry per block, which lowering turns into the IR.
"""
