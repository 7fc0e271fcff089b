// What one compositional scene shows, before it is drawn: one group of identical objects (1–4 of them), or two
// groups side by side (left/right) or stacked (above/below), at most four objects in all. Captions are made from
// this spec, so they state exactly what is drawn.
namespace Furnace.Data.Builders;

public sealed record SceneSpec(SceneGroup First, SceneGroup? Second, SceneRelation Relation)
{
    public IEnumerable<SceneGroup> Groups => Second is null ? [First] : [First, Second];

    /// <summary>Draws a spec: 30% one group (1–4 objects), 35% left/right, 35% above/below (1–3 then up to 4 in all).</summary>
    public static SceneSpec Sample(Random rng, IReadOnlyList<SceneObject> vocabulary)
    {
        double r = rng.NextDouble();
        var a = vocabulary[rng.Next(vocabulary.Count)];
        if (r < 0.3 || vocabulary.Count < 2) return new SceneSpec(new SceneGroup(a, 1 + rng.Next(4)), null, SceneRelation.Alone);
        SceneObject b;
        do b = vocabulary[rng.Next(vocabulary.Count)]; while (b.Key == a.Key);
        int na = 1 + rng.Next(3), nb = 1 + rng.Next(4 - na);
        return new SceneSpec(new SceneGroup(a, na), new SceneGroup(b, nb), r < 0.65 ? SceneRelation.LeftOf : SceneRelation.Above);
    }
}
