"""Static analysis: lowering to the IR, shape and cost inference, and the design rules."""
