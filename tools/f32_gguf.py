"""Write an F32 copy of a GGUF file: every tensor de-quantized, every metadata field kept.

llama.cpp's 4-bit kernels also quantize activations, which moves log-probabilities by up to ~0.3 nats
against transformers on the shipped Q4_1 file. De-quantizing the same file to F32 gives llama.cpp the
exact weights transformers uses (both de-quantize with the same formulas), so the two backends agree
to ~0.01 and can be compared (tests/test_server.py).

    python tools/f32_gguf.py [SRC.gguf] DST.gguf      # SRC defaults to the embedded model
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def to_f32(src: Path, dst: Path) -> Path:
    from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
    from gguf.quants import dequantize

    reader = GGUFReader(str(src))
    arch = reader.fields["general.architecture"].contents()
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".tmp")
    writer = GGUFWriter(str(tmp), arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        value_type = field.types[0]
        value = field.contents()
        if name == "general.file_type":
            value = 0  # all F32
        if value_type == GGUFValueType.ARRAY:
            writer.add_key_value(name, value, value_type, sub_type=field.types[-1])
        else:
            writer.add_key_value(name, value, value_type)
    for tensor in reader.tensors:
        weights = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        shape = tuple(int(n) for n in reversed(tensor.shape))
        writer.add_tensor(tensor.name, weights.reshape(shape), raw_dtype=GGMLQuantizationType.F32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(dst)
    return dst


def main(argv: list[str]) -> int:
    if len(argv) == 1:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from confnb.models import embedded_model_path

        src, dst = embedded_model_path(), Path(argv[0])
    elif len(argv) == 2:
        src, dst = Path(argv[0]), Path(argv[1])
    else:
        print(__doc__)
        return 2
    print(to_f32(src, dst))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
