// The target-module matcher of a LoRA adapter, with PEFT's semantics (peft/tuners/tuners_utils.py
// check_target_module_exists): a list matches the module path exactly or by its trailing components
// ("q_proj" matches "model.layers.0.self_attn.q_proj"), a string is re.fullmatch'ed against the path, and
// "all-linear" takes every linear layer of the language model except lm_head.
using System.Text.RegularExpressions;

namespace Furnace.Models.Lora;

public sealed record LoraTargets
{
    public const string AllLinearName = "all-linear";

    private Regex? _regex;

    private LoraTargets(LoraTargetKind kind, string[] names)
    {
        Kind = kind;
        Names = names;
    }

    public LoraTargetKind Kind { get; }

    /// <summary>The listed names (Names), or the one pattern (Regex), or ["all-linear"].</summary>
    public IReadOnlyList<string> Names { get; }

    public static LoraTargets AllLinear { get; } = new(LoraTargetKind.AllLinear, [AllLinearName]);

    public static LoraTargets List(params string[] names)
    {
        if (names.Length == 0) throw new FurnaceException("LoRA target_modules: the list is empty");
        foreach (string n in names)
        {
            if (string.IsNullOrWhiteSpace(n)) throw new FurnaceException("LoRA target_modules: empty module name in the list");
        }
        return new(LoraTargetKind.Names, names.Distinct(StringComparer.Ordinal).ToArray());
    }

    public static LoraTargets Pattern(string regex)
    {
        if (regex == AllLinearName) return AllLinear;
        try
        {
            var compiled = new Regex(@"\A(?:" + regex + @")\z", RegexOptions.CultureInvariant);
            return new(LoraTargetKind.Regex, [regex]) { _regex = compiled };
        }
        catch (ArgumentException e)
        {
            throw new FurnaceException($"LoRA target_modules: '{regex}' is not a valid regex ({e.Message})");
        }
    }

    /// <summary>
    /// Command-line form: "all-linear", a comma-separated list ("q_proj,v_proj"), or "re:PATTERN" for a regex.
    /// </summary>
    public static LoraTargets Parse(string text)
    {
        text = text.Trim();
        if (text == AllLinearName) return AllLinear;
        if (text.StartsWith("re:", StringComparison.Ordinal)) return Pattern(text[3..]);
        return List(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>Does the module at this path (e.g. "model.layers.0.self_attn.q_proj") carry the adapter?</summary>
    public bool Matches(string modulePath) => Kind switch
    {
        LoraTargetKind.AllLinear => LoraModules.IsDecoderLinear(modulePath),
        LoraTargetKind.Regex => (_regex ??= new Regex(@"\A(?:" + Names[0] + @")\z", RegexOptions.CultureInvariant)).IsMatch(modulePath),
        _ => Names.Any(n => modulePath == n || modulePath.EndsWith("." + n, StringComparison.Ordinal)),
    };

    /// <summary>The targets that match none of the candidate module paths (for "unknown target module" errors).</summary>
    public IEnumerable<string> Unmatched(IReadOnlyCollection<string> modulePaths) => Kind switch
    {
        LoraTargetKind.Names => Names.Where(n => !modulePaths.Any(p => p == n || p.EndsWith("." + n, StringComparison.Ordinal))),
        _ => modulePaths.Any(Matches) ? [] : Names,
    };

    public override string ToString() => Kind switch
    {
        LoraTargetKind.Regex => "re:" + Names[0],
        _ => string.Join(",", Names),
    };

    public bool Equals(LoraTargets? other) => other is not null && Kind == other.Kind && Names.SequenceEqual(other.Names);

    public override int GetHashCode() => HashCode.Combine(Kind, string.Join("\n", Names));
}
