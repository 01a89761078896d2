"""Neural DDSP timbre: data from FluidSynth, a GRU decoder, training, ONNX export, model cards.

``kelly train ddsp --instrument NAME [--quick]`` (or ``python -m training.ddsp``) builds the
data set if needed, trains, exports ``models/ddsp-NAME.onnx`` and writes its model card. See
``docs/neural_ddsp.md``.
"""
