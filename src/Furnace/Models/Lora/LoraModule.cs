// One linear layer LoRA can attach to: its path as PEFT names it (the module path in the base model's
// state dict, without ".weight") and its weight shape (OutFeatures, InFeatures), as nn.Linear stores it.
namespace Furnace.Models.Lora;

public sealed record LoraModule(string Path, int OutFeatures, int InFeatures);
