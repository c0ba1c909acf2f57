"""Training inside the app: the engine's Trainer in a process of its own (a thread where none can be had), reporting
through Qt signals."""
