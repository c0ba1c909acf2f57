"""Training inside the app: the engine's Trainer on a QThread of the app's process, reporting through Qt signals."""
