"""Tidy layout: top to bottom in topological order, each node on the row of its longest path from the input.

Plain arithmetic on ids and edges (no Qt); positions are node centres. Edges that skip rows (a residual
connection) get placeholder slots on the rows they cross, so they do not run through the nodes there.

    >>> tidy_layout(["input", "dense1"], [("input", "dense1")])
    {'input': (0.0, 0.0), 'dense1': (0.0, 80.0)}
"""

from __future__ import annotations

COLUMN_PITCH = 240.0
ROW_PITCH = 80.0


def _ranks(node_ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path row of each node, in a stable topological order (the document holds no cycles)."""
    inputs = {node: [] for node in node_ids}
    for source, target in edges:
        inputs[target].append(source)
    ranks: dict[str, int] = {}
    pending = list(node_ids)
    while pending:
        for node in pending:
            if all(source in ranks for source in inputs[node]):
                ranks[node] = max((ranks[source] + 1 for source in inputs[node]), default=0)
                pending.remove(node)
                break
        else:  # unreachable for a document, which refuses cycles; place the rest below rather than loop
            bottom = max(ranks.values(), default=-1) + 1
            ranks.update({node: bottom for node in pending})
            pending = []
    return ranks


def tidy_layout(node_ids: list[str], edges: list[tuple[str, str]], column_pitch: float = COLUMN_PITCH,
                row_pitch: float = ROW_PITCH) -> dict[str, tuple[float, float]]:
    """Centre positions for every node: rows by rank, each row centred on x = 0."""
    ranks = _ranks(node_ids, edges)
    rows: dict[int, list[str]] = {}
    for node in node_ids:
        rows.setdefault(ranks[node], []).append(node)
    # Placeholders keep a column free on every row a long edge crosses.
    upstream: dict[str, list[str]] = {node: [] for node in node_ids}
    for source, target in edges:
        previous = source
        for rank in range(ranks[source] + 1, ranks[target]):
            slot = f"\0{source}\0{target}\0{rank}"
            rows[rank].append(slot)
            upstream[slot] = [previous]
            previous = slot
        upstream[target].append(previous)

    x: dict[str, float] = {}
    for rank in sorted(rows):
        row = rows[rank]
        document_order = {node: index for index, node in enumerate(row)}

        # Order each row by where its inputs sit (barycentre), keeping document order among equals.
        def barycentre(node, document_order=document_order):
            sources = [x[s] for s in upstream[node] if s in x]
            return (sum(sources) / len(sources)) if sources else 0.0, document_order[node]

        row.sort(key=barycentre)
        for column, node in enumerate(row):
            x[node] = (column - (len(row) - 1) / 2) * column_pitch
    return {node: (x[node], ranks[node] * row_pitch) for node in node_ids}
