"""The emotion-conditioned compound-word transformer at run time (numpy + onnxruntime).

``tokens`` / ``vocab`` (the compound words), ``grammar`` + ``sampler`` (masked
top-k sampling), ``session`` (the ONNX step model with its KV cache),
``generate`` (pieces and bars), ``request`` (one bar's variation request and
its answer). The composer (``composer.transformer_engine``), the inference
actor (which serves the requests) and ``training/transformer`` all use it; it
imports only :mod:`kelly_actors.music`. See docs/tokens.md, docs/transformer.md.
"""
