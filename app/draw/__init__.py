"""Draw-a-digit (issue 8): a drawing pad whose digit the network reads as you draw, and why.

    from app.draw.install import install_draw_panel
    panel = install_draw_panel(window, dashboard, below=window.palette_dock)   # a "Draw" dock
    panel.use_weights(spec, state_dict)               # follow another network (e.g. a training snapshot)
    panel.saliency_button.setChecked(True)            # the map of what the top guess rests on

The network runs in a reader process (``reader.py`` there, ``reader_link.py`` / ``reader_client.py`` here),
never on the GUI thread. ``preprocess``, ``saliency`` and ``reader`` are NumPy and engine only, no Qt.
"""
