// One countable object the scene builder can place: an emoji concept with its CLDR names (English singular/plural,
// Chinese name and measure word when CLDR has a Chinese name) and the pictures of it (OpenMoji SVG, Noto PNG).
namespace Furnace.Data.Builders;

/// <param name="Key">Code point (hex, upper case), e.g. "1F415".</param>
/// <param name="Singular">CLDR English name, e.g. "red apple".</param>
/// <param name="Plural">"red apples".</param>
/// <param name="Chinese">CLDR Chinese name, or null.</param>
/// <param name="Measure">Chinese classifier used with a count (匹 for 马, 只 for most animals, 辆 for …车, 张 for …票; else 个).</param>
/// <param name="Images">Paths of the pictures of it (each a scene may use).</param>
public sealed record SceneObject(string Key, string Singular, string Plural, string? Chinese, string Measure, IReadOnlyList<string> Images);
