// Training over a LlavaTrainable's forward passes: the captioning / instruction loss of a TrainingBatch (mean
// next-token cross-entropy over answer tokens, NextTokenLoss on the final hidden states), the forward passes fed from
// a batch, the optimiser's parameter groups and the sample builder over the model's chat template. The model class
// keeps only the graph; what training makes of it lives here.
using Furnace.Models.Vlm;
using Furnace.Tensors.Autograd;
using Furnace.Training.Losses;

namespace Furnace.Training;

public static class VlmTraining
{
    /// <summary>The captioning / instruction loss of a batch (1,): mean next-token CE over answer tokens.</summary>
    public static Tensor Loss(this LlavaTrainable model, Tape tape, TrainingBatch batch, Random? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return NextTokenLoss.Compute(tape, model.Language, model.Hidden(tape, batch, dropoutRng), batch.ShiftedTargets());
    }

    /// <summary>Decoder input embeddings (batch*seq, dim) of a batch: token embeddings with the projected image rows spliced in.</summary>
    public static Tensor InputEmbeddings(this LlavaTrainable model, Tape tape, TrainingBatch batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        return model.InputEmbeddings(tape, batch.InputIds, batch.ImageFeatures, batch.Images);
    }

    /// <summary>Final normed hidden states (batch*seq, dim) of a batch; dropoutRng drives LoRA dropout (null: none).</summary>
    public static Tensor Hidden(this LlavaTrainable model, Tape tape, TrainingBatch batch, Random? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        return model.Hidden(tape, batch.InputIds, batch.Batch, batch.Seq, batch.ImageFeatures, batch.Images, dropoutRng);
    }

    /// <summary>Logits of every position of a batch (batch*seq, vocab).</summary>
    public static Tensor Logits(this LlavaTrainable model, Tape tape, TrainingBatch batch, Random? dropoutRng = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        return model.Logits(tape, batch.InputIds, batch.Batch, batch.Seq, batch.ImageFeatures, batch.Images, dropoutRng);
    }

    /// <summary>
    /// The trainable parameters as the optimiser groups "projector", "lora" and "lm" (empty groups left out), each with
    /// its peak learning rate; weight decay applies to matrices only (norm weights, biases and vectors get 0).
    /// </summary>
    public static IReadOnlyList<ParameterGroup> ParameterGroups(this LlavaTrainable model, float projectorLr, float loraLr, float lmLr, float weightDecay = 0f)
    {
        ArgumentNullException.ThrowIfNull(model);
        var groups = new List<ParameterGroup>();
        void Add(string name, IEnumerable<Tensor> ps, float lr)
        {
            var list = ps.Where(p => p.RequiresGrad).ToList();
            var decayed = list.Where(p => p.Rank >= 2).ToList();
            var plain = list.Where(p => p.Rank < 2).ToList();
            if (weightDecay == 0 || plain.Count == 0 || decayed.Count == 0)
            {
                if (list.Count > 0) groups.Add(new ParameterGroup(name, list) { LearningRate = lr, WeightDecay = decayed.Count > 0 ? weightDecay : 0 });
                return;
            }
            groups.Add(new ParameterGroup(name, decayed) { LearningRate = lr, WeightDecay = weightDecay });
            groups.Add(new ParameterGroup(name + ".no_decay", plain) { LearningRate = lr, WeightDecay = 0 });
        }
        Add("projector", model.Projector.Parameters, projectorLr);
        Add("lora", model.Language.LoraParameters, loraLr);
        Add("lm", model.Language.Parameters, lmLr);
        return groups;
    }

    /// <summary>A sample builder over the model's chat template and tokenizer.</summary>
    public static TrainingSampleBuilder SampleBuilder(this LlavaTrainable model, string? system = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new(model.Model, system);
    }
}
