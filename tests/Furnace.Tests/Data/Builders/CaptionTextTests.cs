// Caption sentences from real names: emoji (EN templates, CLDR Chinese), articles and lists, plurals, and which
// CLDR names the scene builder may count.
using Furnace.Data.Builders;

namespace Furnace.Tests.Data.Builders;

public sealed class CaptionTextTests
{
    [Fact]
    public void EmojiEnglish_PlainName_ArticleNameAndTags()
    {
        var c = EmojiCaptions.English("grinning face", ["face", "grin", "grinning face", "happy"]);
        Assert.Equal(["a grinning face emoji", "the grinning face emoji", "a grinning face emoji, tagged face, grin and happy"], c);
        Assert.Equal("an ogre emoji", EmojiCaptions.English("ogre", [])[0]);
        Assert.Equal(2, EmojiCaptions.English("ogre", []).Count);
    }

    [Fact]
    public void EmojiEnglish_FlagAndSkinTone_NamedAsSuch()
    {
        Assert.Equal(["the flag of France", "an emoji of the flag of France"], EmojiCaptions.English("flag: France", []));
        Assert.Equal("the waving hand emoji with medium skin tone", EmojiCaptions.English("waving hand: medium skin tone", [])[0]);
    }

    [Fact]
    public void EmojiChinese_FromTheNameOnly_NullWithout()
    {
        Assert.Equal(["狗的表情符号", "一个“狗”表情符号"], EmojiCaptions.Chinese("狗"));
        Assert.Equal(["法国的旗帜", "法国旗帜的表情符号"], EmojiCaptions.Chinese("旗: 法国"));
        Assert.Equal(["挥手（中等肤色）的表情符号"], EmojiCaptions.Chinese("挥手: 中等肤色"));
        Assert.Null(EmojiCaptions.Chinese(null));
        Assert.Null(EmojiCaptions.Chinese(" "));
    }

    [Theory]
    [InlineData("apple", "an")]
    [InlineData("dog", "a")]
    [InlineData("unicorn", "a")]
    [InlineData("octopus", "an")]
    public void Article_ByFirstLetter(string word, string expected) => Assert.Equal(expected, ObjectDatasetBuilder.Article(word));

    [Fact]
    public void JoinAnd_CommasAndLastAnd()
    {
        Assert.Equal("a", ObjectDatasetBuilder.JoinAnd(["a"]));
        Assert.Equal("a and b", ObjectDatasetBuilder.JoinAnd(["a", "b"]));
        Assert.Equal("a, b and c", ObjectDatasetBuilder.JoinAnd(["a", "b", "c"]));
    }

    [Theory]
    [InlineData("dog", "dogs")]
    [InlineData("red apple", "red apples")]
    [InlineData("bus", "buses")]
    [InlineData("peach", "peaches")]
    [InlineData("fox", "foxes")]
    [InlineData("butterfly", "butterflies")]
    [InlineData("monkey", "monkeys")]
    [InlineData("mouse", "mice")]
    [InlineData("sheep", "sheep")]
    [InlineData("kitchen knife", "kitchen knives")]
    [InlineData("tomato", "tomatoes")]
    [InlineData("cactus", "cacti")]
    public void Plural_RulesAndIrregulars(string singular, string plural) => Assert.Equal(plural, SceneVocabulary.Plural(singular));

    [Theory]
    [InlineData("dog", true)]
    [InlineData("red apple", true)]
    [InlineData("bus", true)]
    [InlineData("glass", true)]
    [InlineData("grapes", false)]
    [InlineData("cooked rice", false)]
    [InlineData("meat on bone", false)]
    [InlineData("flag: France", false)]
    [InlineData("cooking", false)]
    [InlineData("Japanese castle", false)]
    [InlineData("man in business suit levitating", false)]
    public void IsCountable_PlainCountableNounPhrasesOnly(string name, bool countable) => Assert.Equal(countable, SceneVocabulary.IsCountable(name));

    [Theory]
    [InlineData("animal-mammal", "马", "匹")]
    [InlineData("animal-mammal", "狗", "只")]
    [InlineData("animal-marine", "热带鱼", "条")]
    [InlineData("transport-ground", "出租车", "辆")]
    [InlineData("plant-flower", "玫瑰", "朵")]
    [InlineData("food-fruit", "红苹果", "个")]
    [InlineData("event", "票", "张")]
    [InlineData("household", "门", "扇")]
    [InlineData("book-paper", "橙色书本", "本")]
    public void Measure_ByNameEndingThenSubgroup(string subgroup, string chinese, string measure) =>
        Assert.Equal(measure, SceneVocabulary.Measure(subgroup, chinese));
}
