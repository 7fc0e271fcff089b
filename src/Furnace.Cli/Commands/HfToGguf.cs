// Placeholder until the safetensors reader lands.
namespace Furnace.Cli.Commands;

internal static class HfToGguf
{
    public static int Convert(string from, string to, Furnace.Tensors.DType type) =>
        throw new FurnaceException($"{from}: Hugging Face conversion is not available yet");
}
