"""Designs and models leaving LayerLab: ONNX files, PyTorch and Keras code, TensorBoard logs; and ONNX coming in.

Each bridge is a module of its own, imported by name (they need optional packages, so none is imported here):

    from engine.export.onnx_export import export_onnx          # a Network -> .onnx (onnx)
    from engine.export.onnx_import import import_onnx          # .onnx -> a spec and its weights (onnx)
    from engine.export.pytorch_code import export_pytorch      # a Network -> a .py and .safetensors (safetensors)
    from engine.export.keras_code import export_keras          # a Network -> a .py and its weights (safetensors)
    from engine.export.tensorboard_log import TensorBoardLogger   # training events -> event files (tensorboardX)

A missing optional package is a ``MissingExtraError`` that says which extra installs it (engine/export/extras.py).
"""
