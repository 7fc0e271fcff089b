// A freshly initialised LLaVA directory to train from scratch (the default model recipe's starting point): the frozen
// ResNet18 as the vision side (vision_config onnx_resnet18, no vision_tower.* tensors), an mlp2x_gelu projector and a
// small Llama decoder in transformers' layout (language_model.model.*, language_model.lm_head.weight), plus the
// caller's tokenizer files. Initialisation as GPT-2 / Llama reference code: matrices ~N(0, 0.02²), the residual
// output projections (o_proj, down_proj) scaled by 1/√(2·layers), norms 1; the projector as nn.Linear
// (U(±1/√fan_in)). Every tensor is a pure function of (seed, name).
using Furnace.Formats.SafeTensors;
using Furnace.IO;
using Furnace.Models.Llama;
using Furnace.Models.Projectors;

namespace Furnace.Models.Vlm;

public static class ScratchLlava
{
    /// <summary>Writes DIR/config.json and DIR/model.safetensors; tokenizer files already in DIR are kept.</summary>
    public static void Write(string dir, LlavaConfig c, int seed)
    {
        if (c.OnnxVision == null) throw new ArgumentException("ScratchLlava writes ONNX-vision models only");
        Directory.CreateDirectory(dir);
        AtomicFile.Write(Path.Combine(dir, "config.json"), s => s.Write(c.ToHfConfigJson()));
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        var projector = ProjectorTrainable.Initial(c.Projector, c.VisionHiddenSize, c.Text.Dim, seed);
        projector.AddTo(w);
        float residual = 0.02f / MathF.Sqrt(2f * c.Text.Layers);
        foreach (var t in LlamaTensorNames.All(c.Text))
        {
            long n = t.Shape.Aggregate(1L, (a, b) => a * b);
            float[] values;
            if (t.Hf.EndsWith("norm.weight", StringComparison.Ordinal)) values = Enumerable.Repeat(1f, (int)n).ToArray();
            else if (t.Hf.EndsWith(".bias", StringComparison.Ordinal)) values = new float[n];
            else values = Normal(n, seed, t.Hf, t.Hf.EndsWith("o_proj.weight", StringComparison.Ordinal) || t.Hf.EndsWith("down_proj.weight", StringComparison.Ordinal) ? residual : 0.02f);
            w.Add(LlavaTrainable.LanguagePrefix + t.Hf, t.Shape, values);
        }
        w.Write(Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName));
    }

    // Box–Muller over SeededUniform's stream for this name: N(0, std²)
    private static float[] Normal(long n, int seed, string name, float std)
    {
        float[] u = SeededUniform.Values(2 * n, seed, name, 0.5f, 0.5f);
        var v = new float[n];
        for (long i = 0; i < n; i++)
        {
            double u1 = Math.Max(u[2 * i], 1e-7), u2 = u[2 * i + 1];
            v[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return v;
    }
}
