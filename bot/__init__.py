"""stretchbot's core: the use cases, their ports, the pure rules, and the process around them."""
