"""The canvas: a scene that reflects the network document, and the view that shows it.

    style.py            sizes and colours shared by the items
    node_item.py        a layer: id, type, output shape, parameters; input and output ports
    port_item.py        the dot a connection starts or ends at
    edge_item.py        a connection, labelled with the tensor shape it carries
    scene.py            NetworkScene: builds items from the document's signals, turns mouse work into edits
    connection_drag.py  dragging from a port: which ports accept, which refuse and why
    view.py             CanvasView: zoom, pan, fit, and drops from the palette
    export.py           the design as PNG or SVG
"""
