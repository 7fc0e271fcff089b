// Where the objects of a scene go, in pixels: a lone object anywhere (30–60% of the side); a group of several in
// distinct cells of a 2×2 grid over the canvas; two groups each in its own half (left/right or top/bottom, with a
// gap between), cells of the half chosen as 1×n, n×1 or 2×2, whichever gives the largest cells. Objects are 62–92%
// of their cell, jittered inside it, so no two overlap and "left of"/"above" hold for every pair.
using SkiaSharp;

namespace Furnace.Data.Builders;

public static class SceneLayout
{
    /// <summary>A placed object: which group (0 or 1) and its square box.</summary>
    public readonly record struct Placement(int Group, SKRect Box);

    public static (IReadOnlyList<Placement> Boxes, (int Row, int Col) Cell) Place(SceneSpec spec, int size, Random rng)
    {
        float margin = size * 0.04f;
        var boxes = new List<Placement>(4);
        if (spec.Relation == SceneRelation.Alone && spec.First.Count == 1)
        {
            float side = size * (0.3f + 0.3f * (float)rng.NextDouble());
            float x = margin + (float)rng.NextDouble() * (size - 2 * margin - side);
            float y = margin + (float)rng.NextDouble() * (size - 2 * margin - side);
            var box = SKRect.Create(x, y, side, side);
            boxes.Add(new Placement(0, box));
            return (boxes, (Third(box.MidY, size), Third(box.MidX, size)));
        }
        var full = SKRect.Create(margin, margin, size - 2 * margin, size - 2 * margin);
        if (spec.Relation == SceneRelation.Alone)
        {
            Fill(boxes, 0, full, spec.First.Count, rng, forceGrid: true);
            return (boxes, (1, 1));
        }
        float gap = size * 0.04f;
        SKRect first, second;
        if (spec.Relation == SceneRelation.LeftOf)
        {
            float w = (full.Width - gap) / 2;
            first = SKRect.Create(full.Left, full.Top, w, full.Height);
            second = SKRect.Create(full.Left + w + gap, full.Top, w, full.Height);
        }
        else
        {
            float h = (full.Height - gap) / 2;
            first = SKRect.Create(full.Left, full.Top, full.Width, h);
            second = SKRect.Create(full.Left, full.Top + h + gap, full.Width, h);
        }
        Fill(boxes, 0, first, spec.First.Count, rng, forceGrid: false);
        Fill(boxes, 1, second, spec.Second!.Count, rng, forceGrid: false);
        return (boxes, (1, 1));
    }

    private static int Third(float v, int size) => Math.Clamp((int)(v * 3 / size), 0, 2);

    private static void Fill(List<Placement> boxes, int group, SKRect region, int n, Random rng, bool forceGrid)
    {
        (int Cols, int Rows)[] options = forceGrid ? [(2, 2)] : n >= 3 ? [(n, 1), (1, n), (2, 2)] : [(n, 1), (1, n)];
        var (cols, rows) = options.MaxBy(o => Math.Min(region.Width / o.Cols, region.Height / o.Rows));
        float cw = region.Width / cols, ch = region.Height / rows, cell = Math.Min(cw, ch);
        var cells = Enumerable.Range(0, cols * rows).OrderBy(_ => rng.Next()).Take(n).ToArray();
        foreach (int c in cells)
        {
            int col = c % cols, row = c / cols;
            float side = cell * (0.62f + 0.3f * (float)rng.NextDouble());
            float x = region.Left + col * cw + (float)rng.NextDouble() * (cw - side);
            float y = region.Top + row * ch + (float)rng.NextDouble() * (ch - side);
            boxes.Add(new Placement(group, SKRect.Create(x, y, side, side)));
        }
    }
}
