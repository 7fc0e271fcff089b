// The compositional scenes: held-out combinations never in train and always in eval, layouts that make the
// captions true (left of / above hold for every pair of objects, nothing overlaps or leaves the canvas), the
// captions themselves, and reproducibility for a seed.
using Furnace.Data.Builders;
using SkiaSharp;

namespace Furnace.Tests.Data.Builders;

public sealed class SceneTests
{
    private static SceneObject Obj(string key, string name, string? zh = null, string measure = "个") =>
        new(key, name, SceneVocabulary.Plural(name), zh, measure, ["x.svg"]);

    private static IReadOnlyList<SceneObject> Vocabulary(int n) =>
        Enumerable.Range(0, n).Select(i => Obj($"K{i}", $"thing{i}")).ToArray();

    [Fact]
    public void Specs_TrainAvoidsHeldOutEvalAlwaysHasOne()
    {
        var vocab = Vocabulary(30);
        var holdout = new SceneHoldout();
        var (train, eval) = ScenesBuilder.Specs(vocab, holdout, 500, 60, seed: 3);
        Assert.Equal(500, train.Length);
        Assert.Equal(60, eval.Length);
        Assert.All(train, s => Assert.False(holdout.Touches(s)));
        Assert.All(eval, s => Assert.True(holdout.Touches(s)));
        Assert.All(train.Concat(eval), s =>
        {
            Assert.InRange(s.Groups.Sum(g => g.Count), 1, 4);
            if (s.Second is { } b) Assert.NotEqual(s.First.Object.Key, b.Object.Key);
        });
        // all three kinds of scene occur
        Assert.Equal(3, train.Select(s => s.Relation).Distinct().Count());
    }

    [Fact]
    public void Choose_CommonObjectsFirstThenSpreadOverTheRest_KeepsVocabularyOrder()
    {
        // "dog" and "bus" are in Common, "thing…" are not; a limit of 5 keeps both common ones and 3 spread others
        var all = Vocabulary(20).Take(10).Append(Obj("D", "dog")).Concat(Vocabulary(20).Skip(10)).Append(Obj("B", "bus")).ToArray();
        var chosen = SceneVocabulary.Choose(all, 5);
        Assert.Equal(5, chosen.Count);
        Assert.Contains(chosen, o => o.Singular == "dog");
        Assert.Contains(chosen, o => o.Singular == "bus");
        Assert.Equal(["thing0", "thing6", "dog", "thing13"], chosen.Take(4).Select(o => o.Singular));
        var order = chosen.Select(o => Array.IndexOf(all, o)).ToArray();
        Assert.Equal(order.Order(), order);
        // more common objects than the limit: the most preferred (dog, cat before bus), in the vocabulary's order
        Assert.Equal(["dog", "cat"], SceneVocabulary.Choose([Obj("B", "bus"), Obj("D", "dog"), Obj("C", "cat")], 2).Select(o => o.Singular));
        // no limit needed: the same list
        Assert.Same(all, SceneVocabulary.Choose(all, all.Length));
        Assert.Throws<FurnaceException>(() => SceneVocabulary.Choose(all, 1));
    }

    [Fact]
    public void Common_AreDistinctCountableNames()
    {
        Assert.Equal(SceneVocabulary.Common.Length, SceneVocabulary.Common.Distinct().Count());
        Assert.All(SceneVocabulary.Common, n => Assert.True(SceneVocabulary.IsCountable(n), n));
    }

    [Fact]
    public void Specs_SameSeedSameScenes_OtherSeedOthers()
    {
        var vocab = Vocabulary(30);
        var a = ScenesBuilder.Specs(vocab, new SceneHoldout(), 50, 5, seed: 1);
        var b = ScenesBuilder.Specs(vocab, new SceneHoldout(), 50, 5, seed: 1);
        var c = ScenesBuilder.Specs(vocab, new SceneHoldout(), 50, 5, seed: 2);
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Eval, b.Eval);
        Assert.NotEqual(a.Train, c.Train);
    }

    [Fact]
    public void Holdout_IsSymmetricAndIndependentOfOrder()
    {
        var h = new SceneHoldout();
        var vocab = Vocabulary(40);
        int held = 0;
        for (int i = 0; i < vocab.Count; i++)
        {
            for (int j = i + 1; j < vocab.Count; j++)
            {
                Assert.Equal(h.IsHeldPair(vocab[i], vocab[j]), h.IsHeldPair(vocab[j], vocab[i]));
                if (h.IsHeldPair(vocab[i], vocab[j])) held++;
            }
        }
        // about one pair in seven (780 pairs)
        Assert.InRange(held, 60, 180);
        Assert.False(h.IsHeldCount(vocab[0], 1));
    }

    [Fact]
    public void Layout_RelationsHoldNoOverlapInsideCanvas()
    {
        var vocab = Vocabulary(10);
        const int size = 224;
        for (int i = 0; i < 300; i++)
        {
            var rng = ScenesBuilder.SceneRandom(9, 0, i, 0);
            var spec = SceneSpec.Sample(rng, vocab);
            var (boxes, _) = SceneLayout.Place(spec, size, rng);
            Assert.Equal(spec.Groups.Sum(g => g.Count), boxes.Count);
            foreach (var p in boxes)
            {
                Assert.True(p.Box.Left >= 0 && p.Box.Top >= 0 && p.Box.Right <= size && p.Box.Bottom <= size, $"{p.Box} outside");
                Assert.True(p.Box.Width >= size * 0.1f, $"{p.Box} too small");
            }
            for (int a = 0; a < boxes.Count; a++)
            {
                for (int b = a + 1; b < boxes.Count; b++) Assert.False(boxes[a].Box.IntersectsWith(boxes[b].Box), $"scene {i}: boxes overlap");
            }
            var first = boxes.Where(p => p.Group == 0).ToArray();
            var second = boxes.Where(p => p.Group == 1).ToArray();
            if (spec.Relation == SceneRelation.LeftOf) Assert.True(first.Max(p => p.Box.Right) < second.Min(p => p.Box.Left));
            if (spec.Relation == SceneRelation.Above) Assert.True(first.Max(p => p.Box.Bottom) < second.Min(p => p.Box.Top));
        }
    }

    [Fact]
    public void Captions_WhatHowManyWhereAndBackground()
    {
        var apple = Obj("1F34E", "red apple", "红苹果");
        var dog = Obj("1F415", "dog", "狗", "只");
        var bg = new SceneBackground.Painted("plain", "a plain blue background", "纯蓝色的背景");
        var pair = new SceneSpec(new SceneGroup(apple, 2), new SceneGroup(dog, 1), SceneRelation.LeftOf);
        Assert.Equal(["two red apples to the left of a dog, on a plain blue background", "a dog to the right of two red apples"],
            SceneCaptions.English(pair, bg, (1, 1)));
        Assert.Equal(["在纯蓝色的背景上，两个红苹果在一只狗的左边", "一只狗在两个红苹果的右边"], SceneCaptions.Chinese(pair, bg, (1, 1)));
        var stacked = new SceneSpec(new SceneGroup(dog, 3), new SceneGroup(apple, 1), SceneRelation.Above);
        Assert.Equal("a red apple below three dogs", SceneCaptions.English(stacked, bg, (1, 1))[1]);
        var lone = new SceneSpec(new SceneGroup(dog, 1), null, SceneRelation.Alone);
        var sky = new SceneBackground.Painted("sky", "a cloudy sky", "多云的天空背景");
        Assert.Equal("a dog in the top left corner, against a cloudy sky", SceneCaptions.English(lone, sky, (0, 0))[0]);
        Assert.Equal("右下角有一只狗", SceneCaptions.Chinese(lone, sky, (2, 2))![1]);
        var four = new SceneSpec(new SceneGroup(apple, 4), null, SceneRelation.Alone);
        Assert.Equal(["four red apples on a plain blue background", "four red apples"], SceneCaptions.English(four, bg, (1, 1)));
        var unnamed = new SceneSpec(new SceneGroup(Obj("X", "widget"), 1), new SceneGroup(dog, 1), SceneRelation.LeftOf);
        Assert.Null(SceneCaptions.Chinese(unnamed, bg, (1, 1)));
    }

    [Fact]
    public void Background_SameRandomSamePixels_DescriptionMatchesKind()
    {
        var kinds = new HashSet<string>();
        for (int i = 0; i < 40; i++)
        {
            using var a = new SKBitmap(64, 64);
            using var b = new SKBitmap(64, 64);
            var pa = SceneBackground.Paint(a, new Random(i));
            var pb = SceneBackground.Paint(b, new Random(i));
            Assert.Equal(pa, pb);
            Assert.Equal(a.Bytes, b.Bytes);
            kinds.Add(pa.Kind);
            if (pa.Kind == "plain")
            {
                var named = SceneBackground.Palette.Single(c => pa.English == $"a plain {c.English} background");
                Assert.Equal(named.Color, a.GetPixel(10, 50));
            }
        }
        Assert.Superset(new HashSet<string> { "plain", "gradient", "texture" }, kinds);
    }
}
