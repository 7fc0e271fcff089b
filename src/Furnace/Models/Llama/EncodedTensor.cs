// A 2-D weight already encoded elsewhere (GPTQ), handed to LlamaGgufExport instead of its float values: Data holds the
// rows in Hugging Face row order, each DTypes.RowBytes(Type, cols) long; the writer applies llama.cpp's Q/K row
// permutation to whole encoded rows (a row's blocks do not depend on the other rows).
using Furnace.Tensors;

namespace Furnace.Models.Llama;

public sealed record EncodedTensor(DType Type, byte[] Data);
