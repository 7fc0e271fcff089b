// How PEFT's target_modules selects modules (peft/tuners/tuners_utils.py check_target_module_exists).
namespace Furnace.Models.Lora;

public enum LoraTargetKind
{
    /// <summary>A list of names: a module matches when its path equals a name or ends with "." + name.</summary>
    Names,

    /// <summary>"all-linear": every linear layer of the language model except the output head (lm_head).</summary>
    AllLinear,

    /// <summary>A single string other than "all-linear": a regex that must match the whole module path.</summary>
    Regex,
}
