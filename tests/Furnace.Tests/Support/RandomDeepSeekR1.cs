// A random deepseek2 GGUF whose chat template is DeepSeek-R1's: the generation prompt opens "<think>", which a random
// model never closes, so with --think hide everything it writes is reasoning (the --think tests' fixture).
using Furnace.Formats.Gguf;
using Furnace.Models.DeepSeek;
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Tests.Support;

public static class RandomDeepSeekR1
{
    public const string Template = "{% for m in messages %}{% if m['role'] == 'user' %}<｜User｜>{{ m['content'] }}{% else %}<｜Assistant｜>"
        + "{{ m['content'].split('</think>')[-1] }}{% endif %}{% endfor %}<｜Assistant｜><think>\\n";

    public static void WriteGguf(string path, DeepSeekConfig c, int seed) =>
        RandomDeepSeek.WriteGguf(path, c, DType.F32, seed, selectionBias: true,
            tokenizerMetadata: RandomLlama.SyntheticVocab(c.VocabSize).Append(new("tokenizer.chat_template", GgufValue.Of(Template))));
}
