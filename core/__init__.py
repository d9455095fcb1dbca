"""The bottom layer: helpers every app may use. It imports no app of the gateway."""
