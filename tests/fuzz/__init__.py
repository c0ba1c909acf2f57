"""Fuzzing every file format LayerLab reads: seeded hostile files, each read within a time and memory bound.

cases.py makes the cases (from valid files built here, never from the network), bounds.py runs one and
says how it ended; test_fuzz_files.py runs a few hundred per format in the suite, and
benchmarks/fuzz_files.py runs thousands, each in its own process, for the figures in issue 19.
"""
