"""The project as a whole: docs, import layers, the lint gate, packaging, examples, tutorial."""
