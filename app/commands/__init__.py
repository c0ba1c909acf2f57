"""``layerlab`` subcommands, one module each.

A command module exposes ``register(subparsers)``, which adds its parser and sets ``run`` (parsed
arguments -> exit code) as a default. Modules import Qt only inside ``run``: engine-only commands
(train, evaluate, predict...) must start without loading Qt, and a test checks that ``--version`` does.
"""
