// The 2D tile token layout of DeepSeek-VL2 (DeepseekVLV2ForCausalLM.prepare_inputs_embeds, tile_tag "2D", at
// DeepSeek-VL2 ef9f91e). For one image with projected views (1 + th·tw, h·w, D) — the global view, then the tiles
// row-major — the rows spliced into the decoder's input are:
//   global:  h rows of [w tokens, image_newline]                                   h·(w + 1)
//   local:   th·h rows of [tw·w tokens, image_newline], the tiles side by side     (th·h)·(tw·w + 1)
//            (einops "(th tw) (h w) d -> (th h) (tw w) d")
//   head: global, view_seperator, local      tail: local, view_seperator, global
// and the images' rows, in order, fill the prompt's <image> positions (masked_scatter_).
using Furnace.Formats.Weights;

namespace Furnace.Models.DeepSeekVl2;

public sealed class DeepSeekVl2ImageLayout
{
    public DeepSeekVl2ImageLayout(float[] newline, float[] separator, GlobalViewPosition position)
    {
        if (newline.Length != separator.Length) throw new ArgumentException($"image_newline ({newline.Length}) and view_seperator ({separator.Length}) differ in width");
        Newline = newline;
        Separator = separator;
        Position = position;
    }

    /// <summary>image_newline (D): ends every row of a view.</summary>
    public float[] Newline { get; }

    /// <summary>view_seperator (D, sic): between the global and the local views.</summary>
    public float[] Separator { get; }

    public GlobalViewPosition Position { get; }

    public int Dim => Newline.Length;

    /// <summary>Loads the checkpoint's top-level image_newline and view_seperator (both (n_embed,)).</summary>
    public static DeepSeekVl2ImageLayout Load(WeightLoader root, int dim, GlobalViewPosition position) =>
        new(root.Vector("image_newline", dim), root.Vector("view_seperator", dim), position);

    /// <summary>Rows of one image: its &lt;image&gt; token count.</summary>
    public static int Rows(int side, DeepSeekVl2TileGrid grid) => DeepSeekVl2Tiling.ImageTokenCount(side, grid);

    // dst (Rows(side, grid), D) = layout of projected (grid.Views, side·side, D)
    public void Assemble(Span<float> dst, ReadOnlySpan<float> projected, int side, DeepSeekVl2TileGrid grid)
    {
        int d = Dim, hw = side * side;
        if (projected.Length != (long)grid.Views * hw * d)
            throw new ArgumentException($"projected holds {projected.Length} floats, not ({grid.Views}, {hw}, {d})");
        if (dst.Length != (long)Rows(side, grid) * d) throw new ArgumentException($"dst holds {dst.Length} floats, not ({Rows(side, grid)}, {d})");
        int globalRows = side * (side + 1);
        int localRows = grid.TilesHigh * side * (grid.TilesWide * side + 1);
        int globalAt = Position == GlobalViewPosition.Head ? 0 : localRows + 1;
        int sepAt = Position == GlobalViewPosition.Head ? globalRows : localRows;
        int localAt = Position == GlobalViewPosition.Head ? globalRows + 1 : 0;

        int row = globalAt;
        ReadOnlySpan<float> global = projected[..(hw * d)];
        for (int y = 0; y < side; y++)
        {
            global.Slice(y * side * d, side * d).CopyTo(dst.Slice(row * d, side * d));
            row += side;
            Newline.CopyTo(dst.Slice(row++ * d, d));
        }
        Separator.CopyTo(dst.Slice(sepAt * d, d));
        row = localAt;
        for (int ty = 0; ty < grid.TilesHigh; ty++)
            for (int y = 0; y < side; y++)
            {
                for (int tx = 0; tx < grid.TilesWide; tx++)
                {
                    int tile = 1 + ty * grid.TilesWide + tx;
                    projected.Slice((tile * hw + y * side) * d, side * d).CopyTo(dst.Slice(row * d, side * d));
                    row += side;
                }
                Newline.CopyTo(dst.Slice(row++ * d, d));
            }
    }

    /// <summary>The rows of every image of a prompt, in order: projected holds all their views back to back
    /// (image 0's global view and tiles, then image 1's, …), each side·side tokens of D.</summary>
    public float[] AssembleAll(ReadOnlySpan<float> projected, int side, IReadOnlyList<DeepSeekVl2TileGrid> grids)
    {
        int d = Dim, hw = side * side;
        long rows = 0, views = 0;
        foreach (var g in grids)
        {
            rows += Rows(side, g);
            views += g.Views;
        }
        if (projected.Length != views * hw * d) throw new ArgumentException($"projected holds {projected.Length} floats, not ({views}, {hw}, {d})");
        var dst = new float[rows * d];
        long r = 0, v = 0;
        foreach (var g in grids)
        {
            int n = Rows(side, g);
            Assemble(dst.AsSpan((int)(r * d), n * d), projected.Slice((int)(v * hw * d), g.Views * hw * d), side, g);
            r += n;
            v += g.Views;
        }
        return dst;
    }

    /// <summary>
    /// masked_scatter_: embeddings (T, D) get imageRows (n, D) at the positions where imageMask is set, in order;
    /// every other row stays as the token embedding put it. n must equal the number of set positions.
    /// </summary>
    public static void Splice(Span<float> embeddings, ReadOnlySpan<bool> imageMask, ReadOnlySpan<float> imageRows, int dim)
    {
        if (embeddings.Length != (long)imageMask.Length * dim) throw new ArgumentException($"embeddings hold {embeddings.Length} floats, not ({imageMask.Length}, {dim})");
        int slots = 0;
        foreach (bool m in imageMask) slots += m ? 1 : 0;
        if (imageRows.Length != (long)slots * dim)
            throw new FurnaceException($"the prompt has {slots} image token positions but the images fill {imageRows.Length / dim} rows");
        for (int t = 0, k = 0; t < imageMask.Length; t++)
        {
            if (!imageMask[t]) continue;
            imageRows.Slice(k++ * dim, dim).CopyTo(embeddings.Slice(t * dim, dim));
        }
    }
}
