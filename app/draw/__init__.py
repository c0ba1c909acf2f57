"""Draw-a-digit (issue 8): a drawing pad whose digit the network reads as you draw.

    from app.draw.install import install_draw_panel
    panel = install_draw_panel(window, dashboard)     # a "Draw" dock on the right
    panel.use_weights(spec, state_dict)               # follow another network (e.g. a training snapshot)

``app.draw.preprocess`` is NumPy only, so this package imports nothing from Qt by itself.
"""
