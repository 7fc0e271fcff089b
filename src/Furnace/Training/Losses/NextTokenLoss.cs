// The captioning / instruction-tuning loss (LLaVA; HF LlamaForCausalLM.forward with labels): mean next-token
// cross-entropy over the scored positions only. Only those rows go through the output head — with a 100k-token
// vocabulary the head is the largest matmul of a step, and prompt and image rows would be thrown away anyway.
using Furnace.Models.Llama;
using Furnace.Tensors.Autograd;

namespace Furnace.Training.Losses;

public static class NextTokenLoss
{
    /// <summary>hidden (n, dim) final normed states, targets (n,) with -100 for unscored rows -> mean CE (1,); 0 when none is scored.</summary>
    public static Tensor Compute(Tape tape, LlamaTrainable lm, Tensor hidden, int[] targets)
    {
        if (targets.Length != hidden.Shape[0]) throw new ArgumentException($"{targets.Length} targets for {hidden.Shape[0]} rows");
        var rows = new List<int>();
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] != TrainingSample.IgnoreIndex) rows.Add(i);
        }
        if (rows.Count == 0) return tape.CrossEntropy(lm.Logits(tape, tape.SliceRows(hidden, 0, 1)), [TrainingSample.IgnoreIndex]);
        int[] picked = rows.ToArray();
        int[] scored = picked.Select(i => targets[i]).ToArray();
        Tensor h = picked.Length == targets.Length ? hidden : tape.GatherRows(hidden, picked);
        return tape.CrossEntropy(lm.Logits(tape, h), scored);
    }
}
