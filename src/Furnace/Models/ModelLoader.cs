// Opens a decoder checkpoint from a path, whatever its format: a GGUF file, or a Hugging Face directory.
using Furnace.Formats.Gguf;
using Furnace.Models.Llama;

namespace Furnace.Models;

public static class ModelLoader
{
    public static LlamaModel OpenLlama(string path)
    {
        if (Directory.Exists(path)) return OpenHuggingFace(path);
        if (!File.Exists(path)) throw new FurnaceException($"{path}: no such file or directory");
        if (!GgufFile.HasMagic(path))
            throw new FurnaceFormatException(path, "not a GGUF file (give a .gguf file or a Hugging Face model directory)");
        var f = GgufFile.Open(path);
        try
        {
            return LlamaModel.FromGguf(f);
        }
        catch
        {
            f.Dispose();
            throw;
        }
    }

    private static LlamaModel OpenHuggingFace(string dir) =>
        throw new FurnaceException($"{dir}: Hugging Face directories are not loadable yet");
}
