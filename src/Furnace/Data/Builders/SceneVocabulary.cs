// Chooses the emoji that scenes can count and place: single-code-point emoji of the animals, food, travel,
// objects and activities groups whose CLDR name is a plain countable noun phrase (head noun last: no "meat on
// bone", no colon, at most three words, not already plural, not a mass noun), and makes their English plural.
namespace Furnace.Data.Builders;

public static class SceneVocabulary
{
    private static readonly HashSet<string> Groups = new(StringComparer.Ordinal)
    {
        "animals-nature", "food-drink", "travel-places", "objects", "activities",
    };

    private static readonly HashSet<string> SkipSubgroups = new(StringComparer.Ordinal)
    {
        "time", "sky-weather", "place-geographic", "place-other", "place-map", "hotel", "game", "arts-crafts", "sound",
    };

    // Head nouns that are not counted with "two …", and names that read as activities rather than things.
    private static readonly HashSet<string> MassNouns = new(StringComparer.OrdinalIgnoreCase)
    {
        "bread", "rice", "popcorn", "spaghetti", "salt", "butter", "sushi", "oden", "curry", "stew", "salad", "soup", "fondue",
        "falafel", "hockey", "lacrosse", "bowling", "pong", "ice", "milk", "tea", "sake", "mate", "meat", "bacon", "cheese",
        "chocolate", "candy", "honey", "garlic", "ginger", "broccoli", "lettuce", "hair", "money", "luggage", "fire", "water",
        "cricket game", "fuel", "lotion", "soap", "laundry", "dancing", "fishing", "skiing", "diving", "juggling", "wrestling",
        // CLDR names that are not a countable picture of a thing (🍳 is "cooking", 🔒 "locked", 📈 "chart increasing").
        "cooking", "locked", "unlocked", "construction", "building construction", "wedding", "moon viewing ceremony", "motorway",
        "wood", "dna", "e-mail", "x-ray", "herb", "level slider", "chart increasing", "chart decreasing", "low battery", "link",
        "shower", "airplane arrival", "airplane departure", "railway track", "pouring liquid", "police car light", "object",
        "leafy green", "kaaba", "incoming envelope", "page facing up", "love hotel", "derelict house",
    };

    // Chinese classifiers by how the CLDR Chinese name ends (checked in order); animals otherwise take 只, all else 个.
    private static readonly (string Suffix, string Measure)[] MeasureBySuffix =
    [
        ("马", "匹"), ("牛", "头"), ("猪", "头"), ("象", "头"), ("驴", "头"), ("骆驼", "头"),
        ("鱼", "条"), ("蛇", "条"), ("龙", "条"),
        ("车", "辆"), ("船", "艘"), ("艇", "艘"), ("飞机", "架"), ("直升机", "架"),
        ("树", "棵"), ("花", "朵"),
        ("票", "张"), ("卡", "张"), ("钞", "张"), ("书", "本"), ("书本", "本"), ("门", "扇"),
        ("椅", "把"), ("椅子", "把"), ("刀", "把"), ("伞", "把"), ("钥匙", "把"), ("锤子", "把"), ("扳手", "把"), ("尺", "把"),
        ("衣", "件"), ("衫", "件"), ("T恤", "件"), ("外套", "件"), ("裙", "条"), ("帽", "顶"),
    ];

    private static readonly Dictionary<string, string> Irregular = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mouse"] = "mice", ["goose"] = "geese", ["man"] = "men", ["woman"] = "women", ["person"] = "people", ["child"] = "children",
        ["foot"] = "feet", ["tooth"] = "teeth", ["sheep"] = "sheep", ["deer"] = "deer", ["fish"] = "fish", ["bison"] = "bison",
        ["moose"] = "moose", ["shrimp"] = "shrimp", ["squid"] = "squid", ["knife"] = "knives", ["leaf"] = "leaves",
        ["wolf"] = "wolves", ["scarf"] = "scarves", ["potato"] = "potatoes", ["tomato"] = "tomatoes", ["mango"] = "mangoes",
        ["cactus"] = "cacti", ["octopus"] = "octopuses", ["bus"] = "buses", ["compass"] = "compasses", ["abacus"] = "abacuses",
        ["lotus"] = "lotuses", ["hibiscus"] = "hibiscuses", ["glass"] = "glasses", ["dice"] = "dice", ["die"] = "dice",
        ["volcano"] = "volcanoes", ["ox"] = "oxen", ["louse"] = "lice", ["cod"] = "cod", ["aircraft"] = "aircraft",
    };

    /// <summary>The objects a scenes build with an object limit takes first, in this order: things COCO also names
    /// (animals, vehicles, food, furniture, sports balls…), then other everyday objects that look unlike each other —
    /// one picture per concept, no near-twins ("dog face" next to "dog", five trains, four coloured books).</summary>
    public static readonly string[] Common =
    [
        "dog", "cat", "horse", "cow", "pig", "ewe", "elephant", "bear", "zebra", "giraffe", "bird", "duck", "chicken", "penguin",
        "owl", "monkey", "rabbit", "mouse", "tiger", "lion", "camel", "kangaroo", "panda", "koala", "frog", "turtle", "snake",
        "fish", "dolphin", "whale", "octopus", "crab", "snail", "butterfly", "spider", "honeybee",
        "banana", "red apple", "pear", "strawberry", "watermelon", "lemon", "pineapple", "carrot", "tomato", "eggplant",
        "avocado", "hot pepper", "pizza", "hamburger", "hot dog", "sandwich", "doughnut", "cookie", "birthday cake",
        "croissant", "egg", "ice cream", "lollipop", "wine glass", "teapot", "spoon", "kitchen knife",
        "bus", "automobile", "taxi", "bicycle", "motorcycle", "locomotive", "airplane", "helicopter", "rocket", "sailboat",
        "ship", "tractor", "ambulance", "fire engine", "skateboard", "stop sign", "house", "castle", "anchor",
        "soccer ball", "basketball", "baseball", "balloon", "wrapped gift", "trophy", "guitar", "violin", "drum", "trumpet",
        "mobile phone", "laptop", "television", "camera", "light bulb", "key", "hammer", "closed book", "envelope", "pencil",
        "ladder", "bed", "chair", "toilet", "door", "basket", "toothbrush", "backpack", "handbag", "crown", "necktie",
        "t-shirt", "dress", "running shoe", "top hat", "candle", "rose", "sunflower", "tulip", "cactus", "palm tree",
        "evergreen tree", "mushroom", "maple leaf", "potted plant",
    ];

    /// <summary>At most <paramref name="max"/> objects: the <see cref="Common"/> ones present first, then others spread
    /// evenly over the rest of the list (so every group keeps some), in the vocabulary's order.</summary>
    public static IReadOnlyList<SceneObject> Choose(IReadOnlyList<SceneObject> all, int max)
    {
        if (max < 2) throw new FurnaceException($"--objects {max} must be at least 2");
        if (all.Count <= max) return all;
        var rank = Common.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i, StringComparer.Ordinal);
        var common = all.Where(o => rank.ContainsKey(o.Singular)).OrderBy(o => rank[o.Singular]).Take(max).ToHashSet();
        var rest = all.Where(o => !common.Contains(o)).ToArray();
        int more = max - common.Count;
        var picked = new HashSet<SceneObject>(common);
        for (int i = 0; i < more; i++) picked.Add(rest[(int)((long)i * rest.Length / more)]);
        return all.Where(picked.Contains).ToArray();
    }

    public static string Plural(string phrase)
    {
        int space = phrase.LastIndexOf(' ');
        string head = phrase[(space + 1)..], before = phrase[..(space + 1)];
        if (Irregular.TryGetValue(head, out string? irregular)) return before + irregular;
        if (head.EndsWith('s') || head.EndsWith('x') || head.EndsWith('z') || head.EndsWith("ch", StringComparison.Ordinal) || head.EndsWith("sh", StringComparison.Ordinal))
            return before + head + "es";
        if (head.Length > 1 && head.EndsWith('y') && !"aeiou".Contains(head[^2], StringComparison.Ordinal)) return before + head[..^1] + "ies";
        return before + head + "s";
    }

    /// <summary>Whether a CLDR name is a plain countable noun phrase whose plural <see cref="Plural"/> gets right.</summary>
    public static bool IsCountable(string name)
    {
        if (name.Length == 0 || name.Contains(':') || name.Contains('&') || name.Any(char.IsDigit) || name.Any(char.IsUpper)) return false;
        string[] words = name.Split(' ');
        if (words.Length > 3) return false;
        if (words.Any(w => w is "on" or "in" or "with" or "of" or "and" or "for" or "at" or "to" or "from")) return false;
        string head = words[^1];
        if (MassNouns.Contains(head) || MassNouns.Contains(name)) return false;
        // Already plural ("grapes", "chopsticks") unless a known singular ending in s.
        if (head.EndsWith('s') && !Irregular.ContainsKey(head) && !head.EndsWith("ss", StringComparison.Ordinal)) return false;
        return true;
    }

    public static string Measure(string subgroup, string chinese)
    {
        foreach (var (suffix, measure) in MeasureBySuffix)
        {
            if (chinese.EndsWith(suffix, StringComparison.Ordinal)) return measure;
        }
        if (subgroup.StartsWith("animal-", StringComparison.Ordinal)) return "只";
        if (subgroup == "plant-flower") return "朵";
        return "个";
    }

    /// <param name="noto">Code point (any case) → Noto PNG path; concepts get this picture besides OpenMoji's.</param>
    public static IReadOnlyList<SceneObject> Build(IReadOnlyList<OpenMojiBuilder.Entry> openmoji, IReadOnlyDictionary<string, string> noto, EmojiNames names)
    {
        var objects = new List<SceneObject>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in openmoji)
        {
            string key = EmojiNames.Key(e.Hexcode);
            if (key.Contains('-') || !Groups.Contains(e.Group) || SkipSubgroups.Contains(e.Subgroup)) continue;
            string name = names.English(key) ?? e.Annotation;
            if (!IsCountable(name) || !seen.Add(name)) continue;
            string? zh = names.Chinese(key);
            var images = new List<string> { e.SvgPath };
            if (noto.TryGetValue(key, out string? png)) images.Add(png);
            objects.Add(new SceneObject(key, name, Plural(name), zh, zh is null ? "个" : Measure(e.Subgroup, zh), images));
        }
        return objects;
    }
}
