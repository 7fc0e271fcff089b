// A 2-D weight already encoded elsewhere (GPTQ's codes, a GPTQ/AWQ checkpoint's lossless blocks), handed to
// LlamaGgufExport instead of its float values. Bytes is called once, when the writer reaches the tensor (so a whole
// model's encoded weights need not sit in memory together); it returns the rows in Hugging Face row order, each
// DTypes.RowBytes(Type, cols) long. The writer applies llama.cpp's Q/K row permutation to whole encoded rows (a row's
// blocks do not depend on the other rows).
using Furnace.Tensors;

namespace Furnace.Models.Llama;

public sealed record EncodedTensor(DType Type, Func<byte[]> Bytes);
