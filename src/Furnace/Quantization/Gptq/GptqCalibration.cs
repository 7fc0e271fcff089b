// Calibration sequences for GPTQ. Text (an LLM): the file is tokenized once (no BOS) and cut into `samples` windows
// of `length` tokens at seeded random offsets, as the reference's get_wikitext2/get_c4 loaders do
// (IST-DASLab/gptq datautils.py); a text shorter than one window is one shorter sequence.
using Furnace.Formats.Tokenizers;

namespace Furnace.Quantization.Gptq;

public static class GptqCalibration
{
    /// <summary>Token windows (each ≤ length ids) of the text file at path.</summary>
    public static List<int[]> TextWindows(string path, Tokenizer tokenizer, int samples, int length, int seed)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (samples <= 0) throw new FurnaceException($"--calib-samples {samples} must be positive");
        if (length <= 0) throw new FurnaceException($"--calib-ctx {length} must be positive");
        if (!File.Exists(path)) throw new FurnaceException($"{path}: calibration file not found");
        string text = File.ReadAllText(path);
        int[] ids = string.IsNullOrWhiteSpace(text) ? [] : tokenizer.Encode(text, addSpecial: false);
        if (ids.Length == 0) throw new FurnaceException($"{path}: the calibration file is empty");
        if (ids.Length <= length) return [ids];
        var rng = new Random(seed);
        var windows = new List<int[]>(samples);
        for (int s = 0; s < samples; s++)
        {
            int start = rng.Next(0, ids.Length - length + 1);
            windows.Add(ids.AsSpan(start, length).ToArray());
        }
        return windows;
    }
}
