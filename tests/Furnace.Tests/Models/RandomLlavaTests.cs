// RandomLlava's cached composed checkpoint (what the caption and serving benchmarks run): written once under names
// that say what they are, reused on the next call, and loadable as a composed LLaVA.
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class RandomLlavaTests
{
    [Fact]
    public void WriteComposedCached_SecondCall_WritesNothingAndComposes()
    {
        using var dir = new TempDir();
        var first = new List<string>();
        var second = new List<string>();
        var files = RandomLlava.WriteComposedCached(dir.Path, "test-tiny", "test-tiny", DType.Q8_0, "q8_0", first.Add);
        var again = RandomLlava.WriteComposedCached(dir.Path, "test-tiny", "test-tiny", DType.Q8_0, "q8_0", second.Add);
        Assert.Equal([$"writing {files.ClipDir}", $"writing {files.Gguf}"], first);
        Assert.Empty(second);
        Assert.Equal(files, again);
        Assert.Equal(Path.Combine(dir.Path, "test-tiny-q8_0.gguf"), files.Gguf);
        Assert.True(File.Exists(files.Projector));
        using var m = LlavaModel.Compose(ClipVisionEncoder.Load(files.ClipDir), files.Projector, null, files.Gguf);
        Assert.Equal(LlamaConfig.Preset("test-tiny").Dim, m.Decoder.Dim);
    }
}
