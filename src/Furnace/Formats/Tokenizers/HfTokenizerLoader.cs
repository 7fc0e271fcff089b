// Builds a Tokenizer from a Hugging Face tokenizer.json (stub until the loader lands).
namespace Furnace.Formats.Tokenizers;

internal static class HfTokenizerLoader
{
    public static Tokenizer Load(string path) => throw new FurnaceException($"{path}: tokenizer.json is not supported yet");
}
