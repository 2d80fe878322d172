"""The measurements, one module per figure group, each `measure(ctx)` filling in its figures."""
