"""The emotion-conditioned compound-word transformer at run time (numpy + onnxruntime).

``tokens`` / ``vocab`` (the compound words), ``grammar`` + ``sampler`` (masked
top-k sampling), ``session`` (the ONNX step model with its KV cache),
``generate`` (pieces and bars), ``engine`` (rules | transformer | hybrid).
Training lives in ``training/transformer``. See docs/tokens.md, docs/transformer.md.
"""
