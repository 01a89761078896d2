"""Training pipeline of the emotion model: data, torch model, training, ONNX export, card.

``python -m training.emotion [--quick]`` (or ``kelly train emotion``) builds the labelled
feature data set, trains :class:`~training.emotion.model.EmotionNet`, exports
``models/emotion.onnx`` and writes its model card. See docs/inference.md.
"""
