// DeepSeek-VL2's dynamic tiling arithmetic (processing_deepseek_vl_v2.py at DeepSeek-VL2 ef9f91e): the candidate
// resolution an image is cut to (select_best_resolution), the tile grid, and the number of <image> tokens the
// processor inserts for it — the same count prepare_inputs_embeds fills: per view side
// h = w = ceil((image_size // patch_size) / downsample_ratio), then h·(w + 1) global rows with a newline each,
// one view separator, and (th·h)·(tw·w + 1) local rows with a newline each.
namespace Furnace.Models.DeepSeekVl2;

/// <summary>How one image is cut: a (Width × Height) canvas of TilesWide × TilesHigh tiles of the view size.</summary>
public readonly record struct DeepSeekVl2TileGrid(int Width, int Height, int TilesWide, int TilesHigh)
{
    public int Tiles => TilesWide * TilesHigh;

    /// <summary>Views the tower encodes for this image: the global view, then the tiles.</summary>
    public int Views => 1 + Tiles;
}

public static class DeepSeekVl2Tiling
{
    /// <summary>
    /// select_best_resolution: the (width, height) candidate that keeps the most of the image's pixels when it is
    /// scaled to fit (min(scaled area, original area)), ties broken by the least canvas left empty; the first wins
    /// a full tie. Arithmetic as Python's: float scale, int() truncation.
    /// </summary>
    public static (int Width, int Height) SelectBestResolution(int imageWidth, int imageHeight, ReadOnlySpan<(int Width, int Height)> candidates)
    {
        if (imageWidth <= 0 || imageHeight <= 0) throw new FurnaceException($"image size {imageWidth}x{imageHeight} must be positive");
        if (candidates.IsEmpty) throw new FurnaceException("no candidate resolutions to tile with");
        (int, int) best = default;
        long maxEffective = 0, minWasted = long.MaxValue;
        bool found = false;
        long original = (long)imageWidth * imageHeight;
        foreach (var (w, h) in candidates)
        {
            double scale = Math.Min((double)w / imageWidth, (double)h / imageHeight);
            long dw = (long)(imageWidth * scale), dh = (long)(imageHeight * scale);
            long effective = Math.Min(dw * dh, original);
            long wasted = (long)w * h - effective;
            if (effective > maxEffective || (effective == maxEffective && wasted < minWasted))
            {
                maxEffective = effective;
                minWasted = wasted;
                best = (w, h);
                found = true;
            }
        }
        // Python returns None here (every candidate scales the image to nothing); its caller then fails.
        if (!found) throw new FurnaceException($"image {imageWidth}x{imageHeight} is too elongated for every candidate resolution");
        return best;
    }

    /// <summary>The grid of one image: the best candidate when cropping (a prompt with at most two images), else one
    /// tile of the view size — the processor still encodes that single padded tile beside the global view.</summary>
    public static DeepSeekVl2TileGrid Grid(int imageWidth, int imageHeight, DeepSeekVl2ProcessorConfig p, bool cropping)
    {
        int size = p.ImageSize;
        var (w, h) = cropping ? SelectBestResolution(imageWidth, imageHeight, p.CandidateResolutions) : (size, size);
        return new DeepSeekVl2TileGrid(w, h, w / size, h / size);
    }

    /// <summary>Cropping is on when the whole prompt holds at most two images (cropping=len(images) &lt;= 2).</summary>
    public static bool Cropping(int imagesInPrompt) => imagesInPrompt <= 2;

    /// <summary>Rows (= columns) of projected tokens per view: ceil((image_size // patch_size) / downsample_ratio).</summary>
    public static int TokensPerSide(DeepSeekVl2ProcessorConfig p) => CeilDiv(p.ImageSize / p.PatchSize, p.DownsampleRatio);

    /// <summary>Rows (= columns) of projected tokens of a gridSide × gridSide patch grid after the projector's
    /// zero padding to a multiple of the ratio.</summary>
    public static int TokensPerSide(int gridSide, int downsampleRatio) => CeilDiv(gridSide, downsampleRatio);

    /// <summary>The &lt;image&gt; tokens of one image: h·(w + 1) + 1 + (th·h)·(tw·w + 1) with h = w = side.</summary>
    public static int ImageTokenCount(int side, DeepSeekVl2TileGrid grid) =>
        side * (side + 1) + 1 + grid.TilesHigh * side * (grid.TilesWide * side + 1);

    public static int ImageTokenCount(DeepSeekVl2ProcessorConfig p, DeepSeekVl2TileGrid grid) => ImageTokenCount(TokensPerSide(p), grid);

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;
}
