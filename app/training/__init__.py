"""Training inside the app: the engine's Trainer driven on a worker thread, reporting through Qt signals."""
