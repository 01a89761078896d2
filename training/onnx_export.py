"""One way to export a torch module to ONNX for every model of the project.

``torch.onnx.export`` with the TorchScript exporter (``dynamo=False``): the graphs here are
plain (dense layers, an LSTM, attention with a growing key/value cache) and export offline
with only the ``onnx`` package, while the dynamo exporter would add ``onnxscript`` and
rewrite the graphs. The ``onnx`` package then adds the metadata the runtime reads
(``metadata_props``) and checks the model; no protobuf is written by hand.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import onnx
import torch

from kelly_actors.files import atomic_write

#: Every shipped model is opset 17 (onnxruntime ≥ 1.17 runs it).
OPSET = 17


def export_bytes(
    module: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Mapping[str, Mapping[int, str]],
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """The serialized ModelProto of ``module`` traced on ``args`` (in eval mode).

    ``dynamic_axes``: for each input or output name, ``{axis: symbolic name}``; the other
    axes keep the sizes of ``args``. ``metadata``: string pairs stored as ``metadata_props``
    (onnxruntime's ``custom_metadata_map``).
    """
    module.eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter warns that it is deprecated in favour of the dynamo one
        # (see the module docstring), and the tracer warns about Python values it freezes
        # (shapes of the example inputs) that the dynamic axes then make symbolic again.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # Said of every LSTM; it concerns graphs whose initial state is not an input, and
        # every recurrent model here takes its state (h/c or state) as an input.
        warnings.filterwarnings("ignore", "Exporting a model to ONNX with a batch_size other")
        torch.onnx.export(
            module,
            args,
            buffer,
            dynamo=False,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes={name: dict(axes) for name, axes in dynamic_axes.items()},
            opset_version=OPSET,
        )
    model = onnx.load_model_from_string(buffer.getvalue())
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


def write_model(path: Path, data: bytes) -> None:
    """Write serialized model bytes to ``path`` atomically (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)
