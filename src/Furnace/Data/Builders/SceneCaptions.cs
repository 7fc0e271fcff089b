// Captions of a scene from its spec and background: what (CLDR names), how many (number words), where (left of /
// above, or the position of a lone object) and the background, in English and — when every object has a CLDR
// Chinese name — in Chinese: "two red apples to the left of a dog on a plain blue background",
// "在纯蓝色的背景上，两个红苹果在一只狗的左边".
namespace Furnace.Data.Builders;

public static class SceneCaptions
{
    private static readonly string[] Numbers = ["zero", "one", "two", "three", "four"];
    private static readonly string[] NumbersZh = ["零", "一", "两", "三", "四"];

    private static readonly string[,] Where =
    {
        { "in the top left corner", "at the top", "in the top right corner" },
        { "on the left", "in the middle", "on the right" },
        { "in the bottom left corner", "at the bottom", "in the bottom right corner" },
    };

    private static readonly string[,] WhereZh =
    {
        { "左上角", "上方", "右上角" },
        { "左侧", "中间", "右侧" },
        { "左下角", "下方", "右下角" },
    };

    public static string Phrase(SceneGroup g) =>
        g.Count == 1 ? $"{ObjectDatasetBuilder.Article(g.Object.Singular)} {g.Object.Singular}" : $"{Numbers[g.Count]} {g.Object.Plural}";

    public static string PhraseZh(SceneGroup g) => $"{NumbersZh[g.Count]}{g.Object.Measure}{g.Object.Chinese}";

    /// <param name="cell">(row, column) in thirds of the canvas of a lone object's centre; used when the scene is one object.</param>
    public static IReadOnlyList<string> English(SceneSpec spec, SceneBackground.Painted bg, (int Row, int Col) cell)
    {
        string a = Phrase(spec.First);
        switch (spec.Relation)
        {
            case SceneRelation.Alone when spec.First.Count == 1:
                string where = Where[cell.Row, cell.Col];
                return [$"{a} {where}, {bg.EnglishWhere}", $"{a} {where}"];
            case SceneRelation.Alone:
                return [$"{a} {bg.EnglishWhere}", a];
            default:
                string b = Phrase(spec.Second!);
                bool side = spec.Relation == SceneRelation.LeftOf;
                return
                [
                    $"{a} {(side ? "to the left of" : "above")} {b}, {bg.EnglishWhere}",
                    $"{b} {(side ? "to the right of" : "below")} {a}",
                ];
        }
    }

    public static IReadOnlyList<string>? Chinese(SceneSpec spec, SceneBackground.Painted bg, (int Row, int Col) cell)
    {
        if (spec.Groups.Any(g => g.Object.Chinese is null)) return null;
        string a = PhraseZh(spec.First);
        switch (spec.Relation)
        {
            case SceneRelation.Alone when spec.First.Count == 1:
                string where = WhereZh[cell.Row, cell.Col];
                return [$"在{bg.Chinese}上，{where}有{a}", $"{where}有{a}"];
            case SceneRelation.Alone:
                return [$"在{bg.Chinese}上有{a}", a];
            default:
                string b = PhraseZh(spec.Second!);
                bool side = spec.Relation == SceneRelation.LeftOf;
                return
                [
                    $"在{bg.Chinese}上，{a}在{b}的{(side ? "左边" : "上面")}",
                    $"{b}在{a}的{(side ? "右边" : "下面")}",
                ];
        }
    }
}
